import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { appStateDir } from '../app-state.js';
import { UserError } from '../errors.js';
import { buildManifest } from '../gates/manifest.js';
import type { BackupRow, Store } from '../store/index.js';
import { runBackupCommand, type BackupConfig } from './commands.js';

export function backupsDir(appDir: string): string {
  return join(appStateDir(appDir), 'backups');
}

/**
 * Takes a backup into a fresh `backups/<id>/` of the app's state dir and records it in history. A backup that
 * writes no file is refused: it could not restore anything.
 */
export async function takeBackup(opts: {
  appDir: string;
  backup: BackupConfig;
  env: Record<string, string>;
  store: Store;
  reason: string;
  deploymentId?: string;
  release?: string;
}): Promise<BackupRow> {
  const iso = new Date().toISOString();
  const id = `b-${iso.slice(0, 19).replace(/[-:T]/g, '')}-${randomBytes(2).toString('hex')}`;
  const dir = join(backupsDir(opts.appDir), id);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    await runBackupCommand('backup.run', opts.backup.run, { cwd: opts.appDir, backupDir: dir, env: opts.env });
    const files = await buildManifest(dir);
    if (files.length === 0) {
      throw new UserError('backup.run wrote no file into $CCOM_BACKUP_DIR, so there would be nothing to restore', {
        fix: 'make backup.run copy the data into "$CCOM_BACKUP_DIR/", e.g. cp data/app.db "$CCOM_BACKUP_DIR/"',
      });
    }
    const row: BackupRow = {
      id,
      deploymentId: opts.deploymentId ?? null,
      release: opts.release ?? null,
      dir,
      createdAt: iso,
      bytes: files.reduce((sum, f) => sum + f.size, 0),
      files: files.length,
      status: 'taken',
      reason: opts.reason,
    };
    opts.store.insertBackup(row);
    return row;
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
