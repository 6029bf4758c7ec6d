import { readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc counts CPU time in ticks of 1/100 s on every mainstream arch. */
const TICKS_PER_SECOND = 100;

/** The numeric fields of /proc/<pid>/stat after the command name (which may hold spaces). */
function statFields(pid: number | 'self'): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // exited: contributes nothing from here on
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * CPU seconds (user + system) these processes used so far; with `children`, their direct children's
 * too (nginx's worker). Read before and after a load run, the difference is what serving it cost.
 */
export function cpuSeconds(pids: number[], opts: { children?: boolean } = {}): number {
  const all = new Set(pids.flatMap((pid) => (opts.children ? [pid, ...childrenOf(pid)] : [pid])));
  let ticks = 0;
  for (const pid of all) {
    const f = statFields(pid);
    if (f) ticks += Number(f[11]) + Number(f[12]); // utime, stime: fields 14 and 15 of the line
  }
  return ticks / TICKS_PER_SECOND;
}

/** This process plus the children it has waited for (a finished wrk run is counted here). */
export function selfCpuSeconds(): number {
  const f = statFields('self');
  return f ? (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICKS_PER_SECOND : 0;
}

/** CPU seconds the whole machine spent not idle, summed over cores (steal counts: the host took it). */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / TICKS_PER_SECOND;
}
