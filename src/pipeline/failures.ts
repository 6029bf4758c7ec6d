import { ExitCode, UserError } from '../errors.js';

/** Phase 1 failed: nothing was changed. Exit 2. */
export class Blocked extends UserError {
  constructor(message: string, opts: { fix?: string; detail?: string } = {}) {
    super(message, { ...opts, exitCode: ExitCode.Blocked });
    this.name = 'Blocked';
  }
}

/** Phases 2–3 failed and the previous release serves again. Exit 1. */
export class RolledBack extends UserError {
  constructor(message: string, opts: { fix?: string; detail?: string } = {}) {
    super(message, { ...opts, exitCode: ExitCode.RolledBack });
    this.name = 'RolledBack';
  }
}

/** The deployment failed and so did putting the previous release back. Exit 3. */
export class RollbackFailed extends UserError {
  constructor(message: string, opts: { fix?: string; detail?: string } = {}) {
    super(message, { ...opts, exitCode: ExitCode.RollbackFailed });
    this.name = 'RollbackFailed';
  }
}

/** A check in phases 2–3 failed; the strategy turns it into a rollback. */
export class CheckFailed extends Error {
  constructor(message: string, readonly detail?: string) {
    super(message);
    this.name = 'CheckFailed';
  }
}
