import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { pidAlive } from './process-handle.js';

/**
 * One agent per app: the pid file is created exclusively. A pid file left by an agent that
 * was killed (-9) names a dead pid and is replaced. Returns false when another agent is alive.
 */
export function claimPidFile(pidFile: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(pidFile, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(pidFile, 'utf8').trim());
      if (holder && holder !== process.pid && pidAlive(holder) && isAgentProcess(holder)) return false;
      unlinkSync(pidFile);
    }
  }
  return false;
}

export function releasePidFile(pidFile: string): void {
  try {
    if (Number(readFileSync(pidFile, 'utf8').trim()) === process.pid) unlinkSync(pidFile);
  } catch {
    /* already gone */
  }
}

/** A recycled pid could belong to anything; only a process running our agent counts. */
function isAgentProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('agent');
  } catch {
    return true;
  }
}
