import type Database from 'better-sqlite3';
import type { InstanceRow } from './types.js';

/** Replaces the whole routing table in one transaction: readers see the old weights or the new, never a mix. */
export function saveRoutes(db: Database.Database, weights: Record<string, number>): void {
  db.transaction(() => {
    db.prepare('DELETE FROM routes').run();
    const insert = db.prepare('INSERT INTO routes (release, weight) VALUES (?, ?)');
    for (const [release, weight] of Object.entries(weights)) insert.run(release, weight);
  }).immediate();
}

export function loadRoutes(db: Database.Database): Record<string, number> {
  const rows = db.prepare<[], { release: string; weight: number }>('SELECT release, weight FROM routes').all();
  return Object.fromEntries(rows.map((r) => [r.release, r.weight]));
}

export function upsertInstance(db: Database.Database, i: InstanceRow): void {
  db.prepare(
    `INSERT INTO instances (id, release, pid, port, host, started_at, state)
     VALUES (@id, @release, @pid, @port, @host, @startedAt, @state)
     ON CONFLICT (id) DO UPDATE SET release = excluded.release, pid = excluded.pid, port = excluded.port,
       host = excluded.host, started_at = excluded.started_at, state = excluded.state`,
  ).run(i);
}

export function removeInstance(db: Database.Database, id: string): void {
  db.prepare('DELETE FROM instances WHERE id = ?').run(id);
}

/** Instances in the order they were first recorded, optionally of one release. */
export function listInstances(db: Database.Database, release?: string): InstanceRow[] {
  const columns = 'id, release, pid, port, host, started_at AS startedAt, state';
  if (release === undefined) {
    return db.prepare<[], InstanceRow>(`SELECT ${columns} FROM instances ORDER BY seq`).all();
  }
  return db.prepare<[string], InstanceRow>(`SELECT ${columns} FROM instances WHERE release = ? ORDER BY seq`).all(release);
}

export function getSetting(db: Database.Database, key: string): string | undefined {
  return db.prepare<[string], string>('SELECT value FROM settings WHERE key = ?').pluck().get(key);
}

export function setSetting(db: Database.Database, key: string, value: string): void {
  db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
    .run(key, value);
}
