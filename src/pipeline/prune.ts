import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Store } from '../store/index.js';
import type { ReleaseStatus } from '../store/types.js';
import { removeRelease } from './validate.js';

/** Good releases kept on disk besides the live one, so rollbacks stay possible (`releases.keep`). */
export const DEFAULT_KEEP_RELEASES = 5;

/** Releases that once served well: a rollback may want them back. */
const GOOD: ReadonlySet<ReleaseStatus> = new Set(['live', 'previous', 'replaced', 'retired']);

/**
 * Deletes the directories of releases no rollback will want; their history rows stay, and
 * `ccom releases` says they were pruned. Failed and rolled-back releases go first: only the live
 * release and the `keep` newest good ones are kept (the rollback target always among them).
 */
export function pruneReleases(store: Store, keep = DEFAULT_KEEP_RELEASES): void {
  const kept = new Set<string>();
  const live = store.liveRelease();
  if (live) kept.add(live.id);
  const previous = store.previousRelease();
  if (previous) kept.add(previous.id);
  const all = store.listReleases();
  for (const r of all.filter((r) => GOOD.has(r.status) && r.id !== live?.id).slice(0, keep)) kept.add(r.id);
  for (const r of all) {
    if (!kept.has(r.id) && existsSync(r.dir)) removeRelease(r.dir);
  }
  pruneLogs(join(dirname(store.file), 'logs'), all.map((r) => r.id), kept, keep);
}

/**
 * Instance logs go with their releases: those of the kept releases stay, and those of the `keep`
 * newest of any status (a failed deploy's output is what one reads next); older ones are deleted.
 */
function pruneLogs(logsDir: string, newestFirst: string[], kept: Set<string>, keep: number): void {
  const recent = new Set(newestFirst.slice(0, keep));
  for (const id of newestFirst) {
    if (kept.has(id) || recent.has(id)) continue;
    rmSync(join(logsDir, id), { recursive: true, force: true });
  }
}
