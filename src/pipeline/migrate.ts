import { pruneBackups } from '../backup/prune.js';
import { restoreBackup } from '../backup/restore.js';
import { takeBackup } from '../backup/take.js';
import type { Config } from '../config/types.js';
import { messageOf, UserError } from '../errors.js';
import { runCommand, tailLines } from '../gates/run-command.js';
import type { BackupRow, Store } from '../store/index.js';
import { Blocked, RollbackFailed, RolledBack } from './failures.js';
import type { Steps } from './steps.js';
import type { Emit } from './types.js';

export interface MigrationContext {
  appDir: string;
  config: Config;
  releaseDir: string;
  releaseId: string;
  deploymentId: string;
  env: Record<string, string>;
  steps: Steps;
  store: Store;
  emit: Emit;
}

/** What the migration phase did, so a later rollback knows whether data must go back. */
export interface MigrationOutcome {
  backup?: BackupRow;
}

/**
 * Phase 2's data step: a backup recorded in history, then `migrations.run` in the new release.
 * A failed migration restores the backup (verified byte for byte) and rolls back: the old
 * release, which never stopped serving, keeps its data.
 */
export async function runMigrations(ctx: MigrationContext): Promise<MigrationOutcome> {
  const run = ctx.config.migrations?.run;
  const backup = ctx.config.backup;
  if (!run || !backup) return {};
  const taken = await ctx.steps.must('backup', async (step) => {
    // A backup that fails leaves everything as it was (no migration ran, nothing started): blocked.
    const row = await takeBackup({ appDir: ctx.appDir, backup, env: ctx.env, store: ctx.store, reason: 'deploy', deploymentId: ctx.deploymentId, release: ctx.releaseId }).catch((err: unknown) => {
      throw new Blocked(`backup before the migration failed: ${messageOf(err)}`, { detail: (err as UserError).detail, fix: (err as UserError).fix });
    });
    const pruned = pruneBackups(ctx.store, backup.keep);
    step.message(`${row.id}: ${row.files} file(s), ${row.bytes} bytes${pruned ? `; pruned ${pruned} old backup(s)` : ''}`);
    return row;
  });
  try {
    await ctx.steps.must('migrations:run', async (step) => {
      const result = await runCommand(run, { cwd: ctx.releaseDir, timeoutMs: ctx.config.migrations?.timeoutMs ?? 600_000, env: { ...process.env, ...ctx.env } });
      if (result.code !== 0 || result.timedOut) {
        const how = result.timedOut ? 'timed out' : `exited with code ${result.code}`;
        throw new UserError(`migration \`${run}\` ${how}`, { detail: tailLines(result.output, 20) || '(no output)' });
      }
      step.message(`\`${run}\` passed`);
    });
  } catch (err) {
    ctx.emit({ type: 'rollback', reason: `migration failed: ${messageOf(err)}` });
    const restored = await restoreOrFail(ctx, taken, `migration failed: ${messageOf(err)}`, (err as UserError).detail);
    throw new RolledBack(`migration failed: ${messageOf(err)}; ${restored}`, {
      detail: (err as UserError).detail,
      fix: `fix the migration (run \`${run}\` against a copy of the data), then deploy again`,
    });
  }
  return { backup: taken };
}

/**
 * After a rollback of a release whose migration ran: puts the data back (when configured) and
 * says plainly in the reason whether it did.
 */
export async function dataAfterRollback(ctx: MigrationContext, migration: MigrationOutcome, failure: unknown): Promise<unknown> {
  if (!migration.backup || !(failure instanceof RolledBack || failure instanceof RollbackFailed)) return failure;
  const Same = failure instanceof RolledBack ? RolledBack : RollbackFailed;
  if (!ctx.config.backup?.restoreOnRollback) {
    const note = `the data was NOT restored (backup.restoreOnRollback is false); backup ${migration.backup.id} is in ${migration.backup.dir}`;
    return new Same(`${failure.message}; ${note}`, { detail: failure.detail, fix: failure.fix });
  }
  const restored = await restoreOrFail(ctx, migration.backup, failure.message, failure.detail);
  return new Same(`${failure.message}; ${restored}`, { detail: failure.detail, fix: failure.fix });
}

async function restoreOrFail(ctx: MigrationContext, backup: BackupRow, reason: string, detail?: string): Promise<string> {
  const config = ctx.config.backup;
  if (!config) throw new RollbackFailed(`${reason}; no backup is configured to restore from`);
  try {
    await ctx.steps.must('restore', async (step) => step.message(await restoreBackup({ appDir: ctx.appDir, backup: config, env: ctx.env, row: backup, store: ctx.store })), { always: true });
    return `the data was restored from backup ${backup.id} and verified`;
  } catch (err) {
    throw new RollbackFailed(`${reason}; then restoring backup ${backup.id} failed: ${messageOf(err)}`, {
      detail: (err as UserError).detail ?? detail,
      fix: `restore the data by hand from ${backup.dir} (backup.restore with CCOM_BACKUP_DIR set to it), then check \`ccom status\``,
    });
  }
}
