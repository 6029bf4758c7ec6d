import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { groupAlive, signalGroup } from '../gates/process-group.js';
import { relative, isAbsolute } from 'node:path';

/**
 * Instances of this app that no agent knows of: a process whose environment carries a
 * CCOM_INSTANCE id and whose working directory is one of this app's releases, yet whose pid is
 * not among `known`. An agent killed with -9 between spawning an instance and saving its state
 * leaves exactly such a process; nothing would ever stop it, and it would hold memory and a port.
 */
export function findOrphanInstances(releasesDir: string, known: ReadonlySet<number>): Array<{ pgid: number; instance: string }> {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return []; // no /proc: nothing can be told apart safely
  }
  // Keyed by process group: an instance is a group (detached), and a shell's children go with it.
  const orphans = new Map<number, string>();
  for (const entry of pids) {
    const pid = Number(entry);
    if (pid === process.pid || known.has(pid)) continue;
    const instance = instanceOf(entry, releasesDir);
    const pgid = instance === undefined ? undefined : groupOf(entry);
    if (instance !== undefined && pgid !== undefined && !known.has(pgid)) orphans.set(pgid, instance);
  }
  return [...orphans].map(([pgid, instance]) => ({ pgid, instance }));
}

function instanceOf(pid: string, releasesDir: string): string | undefined {
  try {
    const cwd = readlinkSync(`/proc/${pid}/cwd`);
    const rel = relative(releasesDir, cwd);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
    const entry = readFileSync(`/proc/${pid}/environ`, 'latin1')
      .split('\0')
      .find((e) => e.startsWith('CCOM_INSTANCE='));
    return entry?.slice('CCOM_INSTANCE='.length);
  } catch {
    return undefined; // gone meanwhile, or not ours to read
  }
}

function groupOf(pid: string): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return undefined;
  }
}

/** Stops the orphans' groups: SIGTERM, then SIGKILL for whatever still runs after `graceMs`. */
export async function stopOrphanInstances(orphans: Array<{ pgid: number }>, graceMs: number): Promise<void> {
  for (const { pgid } of orphans) signalGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && orphans.some(({ pgid }) => groupAlive(pgid))) await new Promise((r) => setTimeout(r, 25));
  for (const { pgid } of orphans) signalGroup(pgid, 'SIGKILL');
}
