import { appsDir } from './ccom-home.js';

/** Exit codes of the user-facing contract (SPEC.md). */
export const ExitCode = {
  Succeeded: 0,
  RolledBack: 1,
  Blocked: 2,
  RollbackFailed: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * The one error type for failures a user can act on: what happened and the fix.
 * The top-level handler prints it without a stack; anything else is a bug.
 */
export class UserError extends Error {
  readonly fix: string | undefined;
  readonly exitCode: ExitCode;
  /** Captured command output or detail shown under the message (e.g. a failing gate's output). */
  readonly detail: string | undefined;

  constructor(message: string, opts: { fix?: string; exitCode?: ExitCode; detail?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'UserError';
    this.fix = opts.fix;
    this.exitCode = opts.exitCode ?? ExitCode.Blocked;
    this.detail = opts.detail;
  }
}

export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError;
}

/** Message of any thrown value, for places that must turn an error into a line of text. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * System failures a user can fix (full disk, permissions, a database kept busy) arrive as plain
 * errors with a code; they become UserErrors naming the cause and the fix instead of a
 * "please report" stack. Anything else is returned unchanged.
 */
export function asUserError(err: unknown): unknown {
  if (isUserError(err) || !(err instanceof Error)) return err;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const known: Record<string, [string, string]> = {
    ENOSPC: ['the disk is full', `free disk space (old releases and backups are in ${appsDir()}/<app>/releases/ and …/backups/), then run the command again`],
    SQLITE_FULL: ['the disk is full: ccom could not write its history', 'free disk space, then run the command again'],
    EDQUOT: ['the disk quota is exceeded', 'free space within your quota, then run the command again'],
    EACCES: ['permission denied', `check that this user owns the app directory and ${appsDir()}/<app>/`],
    EPERM: ['operation not permitted', `check that this user owns the app directory and ${appsDir()}/<app>/`],
    EROFS: ['the file system is read-only', 'deploy from a writable directory'],
    SQLITE_BUSY: ['ccom history is locked by another process for too long', 'wait for the other ccom command to finish, then run the command again'],
    SQLITE_READONLY: ['ccom history cannot be written (read-only)', `check the permissions of ${appsDir()}/<app>/state.db`],
  };
  const match = known[code];
  if (!match) return err;
  return new UserError(`${match[0]} (${err.message})`, { fix: match[1], cause: err });
}
