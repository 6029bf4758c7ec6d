import { asUserError, ExitCode, isUserError, messageOf, type ExitCode as Code } from '../errors.js';
import type { DeploymentStatus } from './types.js';
import { Blocked, RollbackFailed, RolledBack } from './failures.js';

export interface Outcome {
  status: DeploymentStatus;
  exitCode: Code;
  reason?: string;
  fix?: string;
  detail?: string;
  /** Set when the cause was a bug in ccom rather than something the user can fix. */
  bug?: Error;
}

/**
 * Maps what ended a deployment to its status and exit code. `changed` says whether anything
 * running had been touched: a user error before that point means "blocked", after it "failed".
 */
export function outcomeOf(caught: unknown, changed: boolean): Outcome {
  const err = asUserError(caught);
  const reason = messageOf(err);
  const extra = isUserError(err)
    ? { fix: err.fix, detail: err.detail }
    : { fix: 'this is a bug in ccom: please report it with the output above', bug: err instanceof Error ? err : new Error(reason) };
  if (err instanceof RolledBack) return { status: 'rolled_back', exitCode: ExitCode.RolledBack, reason, ...extra };
  if (err instanceof RollbackFailed) return { status: 'failed', exitCode: ExitCode.RollbackFailed, reason, ...extra };
  if (err instanceof Blocked || (!changed && isUserError(err))) return { status: 'blocked', exitCode: ExitCode.Blocked, reason, ...extra };
  if (!changed) return { status: 'blocked', exitCode: ExitCode.Blocked, reason, ...extra };
  return {
    status: 'failed',
    exitCode: ExitCode.RollbackFailed,
    reason: `${reason} (the deployment stopped half-way)`,
    fix: extra.fix ?? 'run `ccom status` to see what runs, then `ccom rollback` or deploy again',
    detail: extra.detail,
  };
}
