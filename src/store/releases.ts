import type Database from 'better-sqlite3';
import type { ReleaseRow, ReleaseStatus } from './types.js';

const COLUMNS = `id, created_at AS createdAt, status, strategy, digest, deployed_by AS deployedBy,
  dir, start_command AS startCommand, config_json AS configJson,
  git_commit AS gitCommit, git_branch AS gitBranch, git_dirty AS gitDirty, git_subject AS gitSubject`;

type Stored = Omit<ReleaseRow, 'git'> & { gitCommit: string | null; gitBranch: string | null; gitDirty: number | null; gitSubject: string | null };

function rowOf(stored: Stored): ReleaseRow {
  const { gitCommit, gitBranch, gitDirty, gitSubject, ...row } = stored;
  // Rows of releases made outside a git repository (or by an older ccom) have no `git`.
  return gitCommit === null ? row : { ...row, git: { commit: gitCommit, branch: gitBranch, dirty: gitDirty === 1, subject: gitSubject ?? '' } };
}

export function insertRelease(db: Database.Database, r: ReleaseRow): void {
  const { git, ...row } = r;
  db.prepare(
    `INSERT INTO releases (id, created_at, status, strategy, digest, deployed_by, dir, start_command, config_json, git_commit, git_branch, git_dirty, git_subject)
     VALUES (@id, @createdAt, @status, @strategy, @digest, @deployedBy, @dir, @startCommand, @configJson, @gitCommit, @gitBranch, @gitDirty, @gitSubject)`,
  ).run({ ...row, gitCommit: git?.commit ?? null, gitBranch: git?.branch ?? null, gitDirty: git ? Number(git.dirty) : null, gitSubject: git?.subject ?? null });
}

export function getRelease(db: Database.Database, id: string): ReleaseRow | undefined {
  const stored = db.prepare<[string], Stored>(`SELECT ${COLUMNS} FROM releases WHERE id = ?`).get(id);
  return stored && rowOf(stored);
}

export function listReleases(db: Database.Database): ReleaseRow[] {
  return db.prepare<[], Stored>(`SELECT ${COLUMNS} FROM releases ORDER BY created_at DESC, seq DESC`).all().map(rowOf);
}

export function setReleaseStatus(db: Database.Database, id: string, status: ReleaseStatus): void {
  const { changes } = db.prepare('UPDATE releases SET status = ? WHERE id = ?').run(status, id);
  if (changes === 0) throw new Error(`setReleaseStatus: no release ${id}`);
}

/**
 * Makes `id` the live release: the former live one becomes 'previous' and any older
 * 'previous' becomes 'retired', all in one IMMEDIATE transaction so readers never see
 * two live releases or none in between.
 */
export function markLive(db: Database.Database, id: string): void {
  db.transaction(() => {
    if (!getRelease(db, id)) throw new Error(`markLive: no release ${id}`);
    db.prepare(`UPDATE releases SET status = 'retired' WHERE status = 'previous' AND id <> ?`).run(id);
    db.prepare(`UPDATE releases SET status = 'previous' WHERE status = 'live' AND id <> ?`).run(id);
    db.prepare(
      `UPDATE releases SET status = 'live',
         live_order = (SELECT coalesce(max(live_order), 0) + 1 FROM releases)
       WHERE id = ?`,
    ).run(id);
  }).immediate();
}

export function liveRelease(db: Database.Database): ReleaseRow | undefined {
  const stored = db.prepare<[], Stored>(`SELECT ${COLUMNS} FROM releases WHERE status = 'live' ORDER BY seq DESC LIMIT 1`).get();
  return stored && rowOf(stored);
}

/** The release to roll back to: the best of `rollbackCandidates`. */
export function previousRelease(db: Database.Database): ReleaseRow | undefined {
  return rollbackCandidates(db)[0];
}

/**
 * Releases a rollback may go to, best first: those once live and not live now, by when they were
 * last live (a named rollback can make an older release live after a newer one), then by creation
 * for rows whose status was set by hand. A release a manual rollback replaced ('replaced') is not
 * among them, so rolling back twice walks back through history instead of toggling.
 */
export function rollbackCandidates(db: Database.Database): ReleaseRow[] {
  return db
    .prepare<[], Stored>(
      `SELECT ${COLUMNS} FROM releases WHERE status IN ('previous', 'retired')
       ORDER BY live_order DESC, created_at DESC, seq DESC`,
    )
    .all()
    .map(rowOf);
}
