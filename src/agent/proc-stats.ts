import { readFileSync } from 'node:fs';

/** Linux reports CPU times in clock ticks; 100 per second on every mainstream kernel config. */
const TICKS_PER_SECOND = 100;

export interface ProcStats {
  cpuSeconds: number;
  rssBytes: number;
}

/** CPU time and resident memory of a process from /proc; undefined once it is gone. */
export function procStats(pid: number): ProcStats | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    return { cpuSeconds: ticks / TICKS_PER_SECOND, rssBytes: rssKb * 1024 };
  } catch {
    return undefined;
  }
}
