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
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
