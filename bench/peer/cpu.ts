import { readFileSync } from 'node:fs';

/** Linux's USER_HZ: utime and stime in /proc/<pid>/stat count ticks of 1/100 s on every mainstream arch. */
const TICKS_PER_SECOND = 100;

function ticksOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of the line)
  } catch {
    return 0; // exited: contributes nothing from here on
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
 * CPU seconds (user + system) used so far by these processes and their direct children (nginx's
 * worker). Read before and after a load run, the difference is what serving it cost, which the
 * other programs on a shared machine disturb far less than they disturb throughput.
 */
export function cpuSeconds(pids: number[]): number {
  const all = new Set(pids.flatMap((pid) => [pid, ...childrenOf(pid)]));
  return [...all].reduce((sum, pid) => sum + ticksOf(pid), 0) / TICKS_PER_SECOND;
}
