import { rmSync } from 'node:fs';
import type { Store } from '../store/index.js';

/** Keeps the newest `keep` backups on disk; older ones are deleted and marked pruned in history. */
export function pruneBackups(store: Store, keep: number): number {
  let pruned = 0;
  const kept = store.listBackups().filter((b) => b.status !== 'pruned');
  for (const backup of kept.slice(keep)) {
    rmSync(backup.dir, { recursive: true, force: true });
    store.setBackupStatus(backup.id, 'pruned');
    pruned++;
  }
  return pruned;
}
