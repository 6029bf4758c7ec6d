import { readFileSync } from 'node:fs';

/**
 * The most public connections the agent accepts at once, from its open-files limit. Each
 * proxied connection holds two descriptors (the client's and one to an instance); the rest is
 * kept for what keeps the app alive: health checks, the control socket, the state file, the pid
 * file. Without this cap a flood of connections (20,000 idle ones, or slow POSTs) takes every
 * descriptor, health checks fail with EMFILE, instances are taken out of the pool and restarted,
 * and the restart itself cannot open a socket. Above the cap Node closes a new connection at
 * once, and accepting resumes as soon as connections close.
 */
export function publicConnectionCap(limit = openFilesLimit()): number | undefined {
  if (limit === undefined) return undefined;
  const reserve = Math.max(64, Math.floor(limit / 10));
  return Math.max(1, Math.floor((limit - reserve) / 2));
}

/** The soft open-files limit of this process (Linux), or undefined when unlimited or unknown. */
function openFilesLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.trim().split(/\s+/)[3]);
    return Number.isInteger(soft) && soft > 0 ? soft : undefined;
  } catch {
    return undefined;
  }
}
