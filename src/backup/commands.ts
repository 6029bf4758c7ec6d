import type { Config } from '../config/types.js';
import { UserError } from '../errors.js';
import { runCommand, tailLines } from '../gates/run-command.js';

export type BackupConfig = NonNullable<Config['backup']>;

/** Backups and restores can be slow on real data; a stuck one must still end. */
export const BACKUP_TIMEOUT_MS = 30 * 60_000;

/**
 * Runs `backup.run` or `backup.restore` by sh in `cwd` with CCOM_BACKUP_DIR set; a failure is a
 * UserError with the command's output.
 */
export async function runBackupCommand(
  what: 'backup.run' | 'backup.restore',
  command: string,
  opts: { cwd: string; backupDir: string; env: Record<string, string> },
): Promise<void> {
  const result = await runCommand(command, {
    cwd: opts.cwd,
    timeoutMs: BACKUP_TIMEOUT_MS,
    env: { ...process.env, ...opts.env, CCOM_BACKUP_DIR: opts.backupDir },
  });
  if (result.code === 0 && !result.timedOut) return;
  const how = result.timedOut ? 'timed out' : result.signal ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
  throw new UserError(`${what} \`${command}\` ${how}`, {
    detail: tailLines(result.output, 20) || '(no output)',
    fix: `run \`${command}\` by hand with CCOM_BACKUP_DIR set to an empty directory and fix what it reports`,
  });
}
