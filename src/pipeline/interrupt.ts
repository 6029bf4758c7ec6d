import type { Steps } from './steps.js';
import type { Emit } from './types.js';

/**
 * Ctrl-C (or SIGTERM from CI) during a deployment must not leave traffic half-moved: the
 * current step finishes, the next one fails, and the strategy rolls back as for any failure.
 * A second signal leaves at once (the lock is then taken over by the next deploy).
 */
export function interruptSteps(steps: Steps, emit: Emit): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    if (steps.interrupted) process.exit(130);
    steps.interrupted = `interrupted by ${signal}`;
    emit({ type: 'info', message: `${signal}: finishing the current step, then rolling back (press Ctrl-C again to quit now)` });
  };
  // SIGHUP: the terminal closed or the SSH session dropped; roll back rather than die mid-way.
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
