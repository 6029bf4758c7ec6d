import os from 'node:os';
import type Database from 'better-sqlite3';
import { writeAudit } from './audit.js';
import type { LockHolder, LockRequest, LockResult } from './types.js';

const SELECT_HOLDER = `SELECT pid, host, who, deployment_id AS deploymentId, command, since FROM deploy_lock`;

/** Whether a pid on this host is running. EPERM means it exists but belongs to someone else. */
export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

export function lockHolder(db: Database.Database): LockHolder | undefined {
  return db.prepare<[], LockHolder>(SELECT_HOLDER).get();
}

function writeHolder(db: Database.Database, holder: LockHolder): void {
  db.prepare(
    `INSERT INTO deploy_lock (slot, pid, host, who, deployment_id, command, since)
     VALUES (1, @pid, @host, @who, @deploymentId, @command, @since)
     ON CONFLICT (slot) DO UPDATE SET pid = excluded.pid, host = excluded.host, who = excluded.who,
       deployment_id = excluded.deployment_id, command = excluded.command, since = excluded.since`,
  ).run(holder);
}

/**
 * Takes the deploy lock. Read-check-write runs in an IMMEDIATE transaction, which takes
 * SQLite's write lock up front, so two processes can never both see it free.
 * A holder whose pid is gone on this host is stale and is taken over (and audited);
 * the same pid on the same host re-enters. A holder on another host is never presumed dead.
 */
export function acquireLock(db: Database.Database, request: LockRequest): LockResult {
  return db.transaction((): LockResult => {
    const holder = lockHolder(db);
    const mine: LockHolder = { ...request, since: new Date().toISOString() };
    if (!holder) {
      writeHolder(db, mine);
      return { ok: true };
    }
    if (holder.pid === request.pid && holder.host === request.host) {
      // Re-entry keeps the original `since`: the lock has been held all along.
      writeHolder(db, { ...mine, since: holder.since });
      return { ok: true };
    }
    if (holder.host === os.hostname() && !isPidAlive(holder.pid)) {
      writeHolder(db, mine);
      writeAudit(db, request.who, 'lock.takeover', { from: holder, deploymentId: request.deploymentId });
      return { ok: true, tookOverFrom: holder };
    }
    return { ok: false, holder };
  }).immediate();
}

/** Releases the lock if `pid` on this host holds it; returns whether it did. */
export function releaseLock(db: Database.Database, pid: number): boolean {
  const { changes } = db.prepare('DELETE FROM deploy_lock WHERE pid = ? AND host = ?').run(pid, os.hostname());
  return changes > 0;
}
