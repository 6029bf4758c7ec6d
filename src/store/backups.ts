import type Database from 'better-sqlite3';

export interface BackupRow {
  id: string;
  deploymentId: string | null;
  release: string | null;
  dir: string;
  createdAt: string;
  bytes: number;
  files: number;
  status: 'taken' | 'restored' | 'pruned';
  reason: string;
}

const COLUMNS = `id, deployment_id AS deploymentId, release, dir, created_at AS createdAt, bytes, files, status, reason`;

export function insertBackup(db: Database.Database, b: BackupRow): void {
  db.prepare(
    `INSERT INTO backups (id, deployment_id, release, dir, created_at, bytes, files, status, reason)
     VALUES (@id, @deploymentId, @release, @dir, @createdAt, @bytes, @files, @status, @reason)`,
  ).run(b);
}

export function setBackupStatus(db: Database.Database, id: string, status: BackupRow['status']): void {
  db.prepare('UPDATE backups SET status = ? WHERE id = ?').run(status, id);
}

/** Newest first. */
export function listBackups(db: Database.Database): BackupRow[] {
  return db.prepare<[], BackupRow>(`SELECT ${COLUMNS} FROM backups ORDER BY seq DESC`).all();
}
