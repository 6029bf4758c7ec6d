import type Database from 'better-sqlite3';
import { UserError } from '../errors.js';

/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
 * Append only: never edit a shipped entry, add a new one (e.g. `ALTER TABLE … ADD COLUMN`).
 * Status columns carry no CHECK constraints on purpose: SQLite cannot alter a CHECK
 * without rebuilding the table, and the TypeScript types already guard the values.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE releases (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    created_at    TEXT NOT NULL,
    status        TEXT NOT NULL,
    strategy      TEXT NOT NULL,
    digest        TEXT NOT NULL,
    deployed_by   TEXT NOT NULL,
    dir           TEXT NOT NULL,
    start_command TEXT NOT NULL,
    config_json   TEXT NOT NULL,
    live_order    INTEGER            -- bumped each time the release goes live, to find "previous"
  );
  CREATE INDEX releases_status ON releases(status);

  CREATE TABLE deployments (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    app          TEXT NOT NULL,
    release      TEXT,               -- no foreign key: a blocked deployment may never create its release
    previous     TEXT,
    strategy     TEXT NOT NULL,
    status       TEXT NOT NULL,
    reason       TEXT,
    url          TEXT,
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    duration_ms  INTEGER,
    deployed_by  TEXT NOT NULL,
    kind         TEXT NOT NULL
  );
  CREATE INDEX deployments_status ON deployments(status);

  CREATE TABLE steps (
    seq           INTEGER PRIMARY KEY,
    deployment_id TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    status        TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    duration_ms   INTEGER NOT NULL,
    message       TEXT
  );
  CREATE INDEX steps_deployment ON steps(deployment_id, name);

  CREATE TABLE audit (
    seq    INTEGER PRIMARY KEY,
    at     TEXT NOT NULL,
    who    TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
  );

  CREATE TABLE deploy_lock (
    slot          INTEGER PRIMARY KEY CHECK (slot = 1),   -- at most one row: the lock
    pid           INTEGER NOT NULL,
    host          TEXT NOT NULL,
    who           TEXT NOT NULL,
    deployment_id TEXT NOT NULL,
    command       TEXT NOT NULL,
    since         TEXT NOT NULL
  );

  CREATE TABLE routes (
    release TEXT PRIMARY KEY,
    weight  REAL NOT NULL
  );

  CREATE TABLE instances (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    release    TEXT NOT NULL,
    pid        INTEGER NOT NULL,
    port       INTEGER NOT NULL,
    host       TEXT NOT NULL,
    started_at TEXT NOT NULL,
    state      TEXT NOT NULL
  );

  CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  `
  CREATE TABLE backups (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    deployment_id TEXT,
    release       TEXT,
    dir           TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    bytes         INTEGER NOT NULL,
    files         INTEGER NOT NULL,
    status        TEXT NOT NULL,        -- taken | restored | pruned
    reason        TEXT NOT NULL          -- why it was taken: deploy, doctor
  );
  `,
  // The agent keeps its routing state in agent-state.json (it no longer loads SQLite).
  `
  DROP TABLE routes;
  DROP TABLE instances;
  `,
  // The code a release holds, when the app is a git repository (issue 14).
  `
  ALTER TABLE releases ADD COLUMN git_commit TEXT;
  ALTER TABLE releases ADD COLUMN git_branch TEXT;
  ALTER TABLE releases ADD COLUMN git_dirty INTEGER;
  ALTER TABLE releases ADD COLUMN git_subject TEXT;
  `,
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database up to SCHEMA_VERSION. Runs under an IMMEDIATE transaction so that
 * the CLI and the agent opening a fresh database at once cannot both migrate it.
 */
export function migrate(db: Database.Database, file: string): void {
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > SCHEMA_VERSION) {
      throw new UserError(
        `${file} has schema version ${current}, newer than this ccom understands (${SCHEMA_VERSION}).`,
        { fix: 'Upgrade ccom to the version that last deployed this app.' },
      );
    }
    for (let v = current; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v] ?? '');
    // PRAGMA takes no bound parameters; SCHEMA_VERSION is an integer we control.
    if (current !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
