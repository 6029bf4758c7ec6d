import type { Outcome } from './outcome.js';

/** The start of every reason of a deployment the user cancelled; the reporter keys its line on it. */
export const CANCELLED = 'cancelled by ';

export function isCancelled(reason: string | undefined): boolean {
  return reason?.startsWith(CANCELLED) ?? false;
}

const WHO: Partial<Record<NodeJS.Signals, string>> = {
  SIGINT: 'Ctrl-C',
  SIGHUP: 'SIGHUP (the terminal closed)',
};

/**
 * A signal (see interrupt.ts) ended the deployment: that was the user's choice, not a fault to
 * "fix". The status and exit code stay what the rollback made them (SPEC), the reason says it
 * was cancelled and what serves now, and the fix is only to deploy again. A failure unrelated
 * to the signal (a check that failed before the step boundary was reached) keeps its reason.
 */
export function cancelledOutcome(outcome: Outcome, interrupted: string, previous: string | null): Outcome {
  // `interrupted` is what the signal handler set on the steps: "interrupted by SIGINT".
  const signal = interrupted.replace(/^interrupted by /, '') as NodeJS.Signals;
  const reason = outcome.reason ?? '';
  if (!reason.startsWith(interrupted) || outcome.status === 'succeeded') return outcome;
  const where = reason.slice(interrupted.length).trim();
  const cancelled = `${CANCELLED}${WHO[signal] ?? signal}${where ? ` ${where}` : ''}`;
  if (outcome.status === 'failed') return { ...outcome, reason: cancelled.replace(/; then the rollback failed/, ', then the rollback failed') };
  const now = outcome.status === 'blocked' ? 'nothing was changed' : previous ? `the previous release ${previous} serves` : 'no release was live before, and none is now';
  return { status: outcome.status, exitCode: outcome.exitCode, reason: `${cancelled}; ${now}`, fix: 'deploy again when you are ready' };
}
