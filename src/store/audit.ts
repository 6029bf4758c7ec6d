import type Database from 'better-sqlite3';
import type { AuditEntry } from './types.js';

export function writeAudit(db: Database.Database, who: string, action: string, detail: Record<string, unknown>): void {
  db.prepare('INSERT INTO audit (at, who, action, detail) VALUES (?, ?, ?, ?)').run(
    new Date().toISOString(),
    who,
    action,
    JSON.stringify(detail),
  );
}

/** Newest first (by insertion, since two entries can share a millisecond). */
export function listAudit(db: Database.Database, limit: number): AuditEntry[] {
  return db
    .prepare<[number], Omit<AuditEntry, 'detail'> & { detail: string }>(
      'SELECT at, who, action, detail FROM audit ORDER BY seq DESC LIMIT ?',
    )
    .all(limit)
    .map((row) => ({ ...row, detail: JSON.parse(row.detail) as Record<string, unknown> }));
}
