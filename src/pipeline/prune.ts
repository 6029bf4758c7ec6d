import { existsSync } from 'node:fs';
import type { Store } from '../store/index.js';
import { removeRelease } from './validate.js';

/** Release directories kept besides the live and previous ones, so rollbacks stay possible. */
const KEEP_RELEASES = 5;

/** Deletes the directories of old releases; their history rows stay. */
export function pruneReleases(store: Store): void {
  const keep = new Set<string>();
  const live = store.liveRelease();
  const previous = store.previousRelease();
  if (live) keep.add(live.id);
  if (previous) keep.add(previous.id);
  const all = store.listReleases();
  for (const r of all.slice(0, KEEP_RELEASES)) keep.add(r.id);
  for (const r of all) {
    if (!keep.has(r.id) && existsSync(r.dir)) removeRelease(r.dir);
  }
}
