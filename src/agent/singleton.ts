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
      // An agent whose command line cannot be read (a transient error) is presumed alive: never steal.
      if (holder && holder !== process.pid && pidAlive(holder) && isAgentProcess(holder) !== false) return false;
      unlinkSync(pidFile);
    } finally {
      unlinkSync(staged);
    }
  }
  return false;
}

/**
 * Who the pid file says owns the app. Only a pid file that could be read and names another
 * live agent is `another`: a file that cannot be read now (EMFILE at the open-files limit, EIO)
 * is `unknown`, and the agent must not step aside for it.
 */
export type PidFileOwner = 'me' | 'another' | 'nobody' | 'unknown';

export function pidFileOwner(pidFile: string): PidFileOwner {
  let text: string;
  try {
    text = readFileSync(pidFile, 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'nobody' : 'unknown';
  }
  const holder = Number(text.trim());
  if (holder === process.pid) return 'me';
  if (!Number.isInteger(holder) || holder <= 0 || !pidAlive(holder)) return 'nobody';
  const agent = isAgentProcess(holder);
  return agent === undefined ? 'unknown' : agent ? 'another' : 'nobody';
}

export function ownsPidFile(pidFile: string): boolean {
  return pidFileOwner(pidFile) === 'me';
}

export function releasePidFile(pidFile: string): void {
  if (ownsPidFile(pidFile)) unlinkSync(pidFile);
}

/** A recycled pid could belong to anything; only a process running our agent counts. Undefined: cannot tell. */
function isAgentProcess(pid: number): boolean | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('agent');
  } catch (err) {
    // Gone between the liveness check and the read: not an agent any more.
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? false : undefined;
  }
}
