import { readdirSync, readFileSync } from 'node:fs';

/** Sends `signal` to every process of group `pgid`; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: the whole group is gone
  }
}

/** State, parent and process group of a pid from /proc/<pid>/stat, or undefined when unreadable. */
function procStat(pid: string): { state: string; ppid: number; pgrp: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', ppid: Number(fields[1]), pgrp: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

/**
 * True while some process of group `pgid` is still running. Zombies do not count: where nobody
 * reaps orphans (a container without an init) they would otherwise look alive forever.
 */
export function groupAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  let pids: string[];
  try {
    pids = readdirSync('/proc');
  } catch {
    return true; // no /proc: trust kill(0)
  }
  return pids.some((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    const stat = procStat(pid);
    return stat !== undefined && stat.pgrp === pgid && stat.state !== 'Z';
  });
}

/** SIGTERM the group, then SIGKILL whatever is still running after `graceMs`. */
export async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  signalGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && groupAlive(pgid)) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  signalGroup(pgid, 'SIGKILL');
}

/** True while `pid` runs; a zombie (exited, never reaped by an init that does not reap) is gone. */
export function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(String(pid));
  return stat === undefined ? true : stat.state !== 'Z';
}

/** The parent of `pid`, or undefined when it cannot be read. */
export function parentPid(pid: number): number | undefined {
  return procStat(String(pid))?.ppid;
}
