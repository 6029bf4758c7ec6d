import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { UserError } from '../errors.js';
import { stateOpenError } from './open-error.js';
import * as settings from './settings.js';
import * as audit from './audit.js';
import * as backups from './backups.js';
import type { BackupRow } from './backups.js';
import * as deployments from './deployments.js';
import type { DeploymentPatch, StepPatch } from './deployments.js';
import * as lock from './lock.js';
import * as releases from './releases.js';
import { migrate } from './schema.js';
import { ensureAppStateDir } from '../app-state-owner.js';
import type {
  AuditEntry, DeploymentRow, DeploymentWithSteps, LockHolder, LockRequest, LockResult,
  ReleaseRow, ReleaseStatus, StepRow,
} from './types.js';

/** File name of the app's SQLite database inside its state dir (`$CCOM_HOME/apps/<app>/`). */
export const DB_FILE = 'state.db';

/**
 * An app's history and shared state in `$CCOM_HOME/apps/<app>/state.db`. The CLI and the app's
 * agent each open their own Store on the same file at once: WAL lets readers run beside
 * a writer, busy_timeout makes writers queue instead of failing, and every multi-statement
 * write is one transaction.
 */
export class Store {
  private constructor(
    private readonly db: Database.Database,
    /** Absolute path of the database file. */
    readonly file: string,
  ) {}

  /** Opens (creating and migrating as needed) the database of the app in `appDir`. */
  static open(appDir: string, opts: { cacheKib?: number } = {}): Store {
    const dir = path.resolve(appDir);
    if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
      throw new UserError(`App directory ${dir} does not exist, so there is no state to open.`, {
        fix: 'Pass the app directory with -C <path>, or run ccom from inside it.',
      });
    }
    // Owner-only: the database records who deployed what, and releases carry the app's config.
    const stateDir = ensureAppStateDir(dir);
    const file = path.join(stateDir, DB_FILE);
    let db: Database.Database | undefined;
    try {
      // Owner-only: the database records who deployed what, and releases carry the app's config.
      fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      db = new Database(file);
      // busy_timeout first, so that switching to WAL waits for another opener instead of failing.
      db.pragma('busy_timeout = 5000');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL'); // durable across app crashes in WAL mode, far fewer fsyncs
      db.pragma('foreign_keys = ON');
      // The long-running agent keeps a small page cache: its tables hold a few rows.
      if (opts.cacheKib) db.pragma(`cache_size = -${Math.max(64, Math.floor(opts.cacheKib))}`);
      migrate(db, file);
      return new Store(db, file);
    } catch (err) {
      db?.close();
      if (err instanceof UserError) throw err;
      throw stateOpenError(err, file, stateDir);
    }
  }

  /** Closes the connection; the Store must not be used afterwards. Safe to call twice. */
  close(): void {
    if (this.db.open) this.db.close();
  }

  // Releases

  insertRelease(r: ReleaseRow): void { releases.insertRelease(this.db, r); }
  getRelease(id: string): ReleaseRow | undefined { return releases.getRelease(this.db, id); }
  /** Newest first, by createdAt then insertion order. */
  listReleases(): ReleaseRow[] { return releases.listReleases(this.db); }
  /** Throws if the release does not exist (a bug in the caller). */
  setReleaseStatus(id: string, status: ReleaseStatus): void { releases.setReleaseStatus(this.db, id, status); }
  /** Atomically: `id` becomes live, the former live one previous, any older previous retired. */
  markLive(id: string): void { releases.markLive(this.db, id); }
  liveRelease(): ReleaseRow | undefined { return releases.liveRelease(this.db); }
  /** The most recently live release that is not live now ('previous' or 'retired'): the rollback target. */
  previousRelease(): ReleaseRow | undefined { return releases.previousRelease(this.db); }
  /** Every release a rollback may go to, best first (see `previousRelease`). */
  rollbackCandidates(): ReleaseRow[] { return releases.rollbackCandidates(this.db); }

  // Deployments and their steps

  insertDeployment(d: DeploymentRow): void { deployments.insertDeployment(this.db, d); }
  /** Sets the defined fields of `patch` (null clears a field); `id` cannot change. */
  updateDeployment(id: string, patch: DeploymentPatch): void { deployments.updateDeployment(this.db, id, patch); }
  /** The deployment with its steps in insertion order. */
  getDeployment(id: string): DeploymentWithSteps | undefined { return deployments.getDeployment(this.db, id); }
  /** Newest first, without steps. */
  listDeployments(limit: number): DeploymentRow[] { return deployments.listDeployments(this.db, limit); }
  /** The newest deployment with status 'running', with its steps. */
  runningDeployment(): DeploymentWithSteps | undefined { return deployments.runningDeployment(this.db); }
  addStep(deploymentId: string, step: StepRow): void { deployments.addStep(this.db, deploymentId, step); }
  /** Patches the most recently added step with that name; throws if there is none. */
  updateStep(deploymentId: string, name: string, patch: StepPatch): void {
    deployments.updateStep(this.db, deploymentId, name, patch);
  }

  // Audit

  audit(who: string, action: string, detail: Record<string, unknown>): void { audit.writeAudit(this.db, who, action, detail); }
  /** Newest first. */
  listAudit(limit: number): AuditEntry[] { return audit.listAudit(this.db, limit); }

  // Deploy lock

  /**
   * Takes the single deploy lock, race-free across processes. Re-entrant for the same
   * pid and host; a holder whose pid is dead on this host is taken over (`tookOverFrom`, audited).
   */
  acquireLock(request: LockRequest): LockResult { return lock.acquireLock(this.db, request); }
  /** Releases the lock only if `pid` on this host holds it; returns whether it did. */
  releaseLock(pid: number): boolean { return lock.releaseLock(this.db, pid); }
  lockHolder(): LockHolder | undefined { return lock.lockHolder(this.db); }

  // Small key-value settings (e.g. a paused deployment's promote/abort decision)

  getSetting(key: string): string | undefined { return settings.getSetting(this.db, key); }
  countDeploymentsByStatus(): Record<string, number> { return deployments.countByStatus(this.db); }
  insertBackup(b: BackupRow): void { backups.insertBackup(this.db, b); }
  setBackupStatus(id: string, status: BackupRow['status']): void { backups.setBackupStatus(this.db, id, status); }
  listBackups(): BackupRow[] { return backups.listBackups(this.db); }
  setSetting(key: string, value: string): void { settings.setSetting(this.db, key, value); }
}
