import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { pidAlive } from './process-handle.js';

/**
 * One agent per app: the pid file is created exclusively. A pid file left by an agent that
 * was killed (-9) names a dead pid and is replaced. Returns false when another agent is alive.
 */
export function claimPidFile(pidFile: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    // Written aside then hard-linked into place: the pid file appears atomically with its content,
    // so a racing agent never reads it empty and mistakes it for a stale one.
    const staged = `${pidFile}.${process.pid}`;
    writeFileSync(staged, String(process.pid), { mode: 0o600 });
    try {
      linkSync(staged, pidFile);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(pidFile, 'utf8').trim());
      if (holder && holder !== process.pid && pidAlive(holder) && isAgentProcess(holder)) return false;
      unlinkSync(pidFile);
    } finally {
      unlinkSync(staged);
    }
  }
  return false;
}

export function ownsPidFile(pidFile: string): boolean {
  try {
    return Number(readFileSync(pidFile, 'utf8').trim()) === process.pid;
  } catch {
    return false;
  }
}

export function releasePidFile(pidFile: string): void {
  if (ownsPidFile(pidFile)) unlinkSync(pidFile);
}

/** A recycled pid could belong to anything; only a process running our agent counts. */
function isAgentProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('agent');
  } catch {
    return true;
  }
}
