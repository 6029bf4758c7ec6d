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
