import { probeHealth } from './health-probe.js';
import { healthIntervalMs } from './health-watch.js';
import type { Instance } from './instance.js';
import { tailFile } from './log-tail.js';

/** A release that could not reach healthy: the message names the check and what it saw. */
export class BootFailure extends Error {
  constructor(message: string, readonly detail: string) {
    super(message);
    this.name = 'BootFailure';
  }
}

/** A stop can arrive during any await of a start or restart; re-read the state after each. */
export function stoppedMeanwhile(instance: Instance): boolean {
  return instance.state === 'stopping' || instance.state === 'stopped';
}

/**
 * Resolves once a new process answers its health check; throws BootFailure when it exits
 * first or the timeout passes. Polls fast at first (apps boot in ~100 ms) so deploys are not
 * held up by the check interval.
 */
export async function waitHealthy(instance: Instance, cancel: { cancelled: boolean }): Promise<void> {
  const { path, timeoutMs } = instance.spec.health;
  const intervalMs = healthIntervalMs(instance.spec.health.intervalMs);
  const deadline = Date.now() + timeoutMs;
  let exit: string | undefined;
  void instance.handle.exited.then((how) => (exit = how));
  let delay = 25;
  let observed = 'no check ran';
  while (!cancel.cancelled) {
    if (exit !== undefined) throw bootFailure(instance, `crashed on boot: ${exit}`);
    const probe = await probeHealth(instance.port, path, Math.min(2000, Math.max(250, deadline - Date.now())));
    observed = probe.observed;
    if (probe.ok) {
      if (stoppedMeanwhile(instance)) throw new BootFailure('stopped while starting', '');
      instance.state = 'healthy';
      instance.healthySince = Date.now();
      return;
    }
    if (Date.now() >= deadline) {
      // Connection refused all along usually means the app listens on its own port, not $PORT.
      const hint = observed === 'connection refused' ? `; nothing listened on port ${instance.port}: does the app listen on $PORT?` : '';
      throw bootFailure(instance, `health check GET ${path} did not pass within ${timeoutMs}ms (last: ${observed})${hint}`);
    }
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
    delay = Math.min(delay * 2, intervalMs, 500);
    // A crash is reported as such even if it happened during the sleep.
    await Promise.race([instance.handle.exited, sleep(0)]);
  }
  throw new BootFailure('start cancelled', '');
}

function bootFailure(instance: Instance, what: string): BootFailure {
  const message = `instance ${instance.id} of release ${instance.spec.id} ${what}`;
  // What the app wrote last may still wait in its log pipe.
  instance.log.drain();
  return new BootFailure(message, tailFile(instance.logFile, 20));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
