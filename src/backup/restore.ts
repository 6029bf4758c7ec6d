import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { buildManifest, type ManifestEntry } from '../gates/manifest.js';
import type { BackupRow, Store } from '../store/index.js';
import { runBackupCommand, type BackupConfig } from './commands.js';
import { backupsDir } from './take.js';

/**
 * Restores a backup with `backup.restore`, then proves it: a fresh backup of the restored state
 * must hold exactly the same files, byte for byte, as the one restored from.
 */
export async function restoreBackup(opts: { appDir: string; backup: BackupConfig; env: Record<string, string>; row: BackupRow; store: Store }): Promise<string> {
  await runBackupCommand('backup.restore', opts.backup.restore, { cwd: opts.appDir, backupDir: opts.row.dir, env: opts.env });
  const check = mkdtempSync(join(backupsDir(opts.appDir), `${opts.row.id}.verify-`));
  try {
    await runBackupCommand('backup.run', opts.backup.run, { cwd: opts.appDir, backupDir: check, env: opts.env });
    const differences = compareTrees(await buildManifest(opts.row.dir), await buildManifest(check));
    if (differences.length > 0) {
      throw new UserError(`the data after restoring backup ${opts.row.id} differs from the backup`, {
        detail: differences.slice(0, 10).join('\n'),
        fix: `check backup.restore; the backup itself is intact in ${opts.row.dir}`,
      });
    }
  } finally {
    rmSync(check, { recursive: true, force: true });
  }
  opts.store.setBackupStatus(opts.row.id, 'restored');
  return `restored backup ${opts.row.id} (${opts.row.files} file(s)) and verified it byte for byte`;
}

/** Files that differ between two manifests, as readable lines. */
export function compareTrees(expected: ManifestEntry[], actual: ManifestEntry[]): string[] {
  const problems: string[] = [];
  const got = new Map(actual.map((e) => [e.path, e]));
  for (const entry of expected) {
    const other = got.get(entry.path);
    if (!other) problems.push(`missing: ${entry.path}`);
    else if (other.sha256 !== entry.sha256) problems.push(`different: ${entry.path}`);
    got.delete(entry.path);
  }
  for (const extra of got.keys()) problems.push(`unexpected: ${extra}`);
  return problems;
}
