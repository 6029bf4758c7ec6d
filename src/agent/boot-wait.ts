import { appendFileSync } from 'node:fs';
import { probeHealth } from './health-probe.js';
import { healthIntervalMs } from './health-watch.js';
import type { Instance } from './instance.js';
import { portTakenOnBoot, PORT_RETRY_MARK } from './instance-port.js';
import { tailFile } from './log-tail.js';
import { unstamp } from './log-stamp.js';

/** A release that could not reach healthy: the message names the check and what it saw. */
export class BootFailure extends Error {
  constructor(
    message: string,
    readonly detail: string,
    /** What the user can do, when the failure says more than "read the logs". */
    readonly fix?: string,
  ) {
    super(message);
    this.name = 'BootFailure';
  }
}

/** A stop can arrive during any await of a start or restart; re-read the state after each. */
export function stoppedMeanwhile(instance: Instance): boolean {
  return instance.state === 'stopping' || instance.state === 'stopped';
}

/**
 * An app that answers the health path with 404 (or 401, 403…) for this long after it started
 * listening has no such route, or guards it: waiting out health.timeout would not change that.
 * 429 is left out, as it says "later", and 4xx answers while a framework still compiles its
 * routes (Next.js in dev) last well under this.
 */
const CLIENT_ERROR_GRACE_MS = 3000;
const HEALTH_PATH_FIX = 'set health.path in ccom.yaml to a route that answers 200 (the app answered the health check, so it listens on $PORT)';

function isClientError(status: number | undefined): boolean {
  return status !== undefined && status >= 400 && status < 500 && status !== 429;
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
  let clientErrorSince: number | undefined;
  while (!cancel.cancelled) {
    if (exit !== undefined) throw bootFailure(instance, `crashed on boot: ${exit}`);
    const probe = await probeHealth(instance.port, path, Math.min(2000, Math.max(250, deadline - Date.now())));
    observed = probe.observed;
    clientErrorSince = isClientError(probe.status) ? (clientErrorSince ?? Date.now()) : undefined;
    if (clientErrorSince !== undefined && Date.now() - clientErrorSince >= CLIENT_ERROR_GRACE_MS) {
      const what = `health check GET ${path} answered ${observed} for ${CLIENT_ERROR_GRACE_MS / 1000}s: the app has no such route (or refuses it); ${HEALTH_PATH_FIX}`;
      throw bootFailure(instance, what, HEALTH_PATH_FIX);
    }
    if (probe.ok) {
      if (stoppedMeanwhile(instance)) throw new BootFailure('stopped while starting', '');
      instance.state = 'healthy';
      instance.healthySince = Date.now();
      return;
    }
    if (Date.now() >= deadline) {
      // Connection refused all along usually means the app listens on its own port, not $PORT.
      const hint = observed === 'connection refused' ? `; nothing listened on port ${instance.port}: does the app listen on $PORT?` : '';
      const fix = clientErrorSince === undefined ? undefined : HEALTH_PATH_FIX;
      throw bootFailure(instance, `health check GET ${path} did not pass within ${timeoutMs}ms (last: ${observed})${hint}${fix ? `; ${fix}` : ''}`, fix);
    }
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
    delay = Math.min(delay * 2, intervalMs, 500);
    // A crash is reported as such even if it happened during the sleep.
    await Promise.race([instance.handle.exited, sleep(0)]);
  }
  throw new BootFailure('start cancelled', '');
}

/** What a boot that must start again on another port needs of the supervisor. */
export interface BootHost {
  stop(instance: Instance): Promise<void>;
  /** Starts the same instance id again on a fresh port. */
  launchAgain(instance: Instance): Promise<Instance>;
  log(message: string): void;
}

/** Boots of one instance whose port was taken before the app could listen on it. */
const PORT_ATTEMPTS = 3;

/**
 * Waits for a new instance to become healthy. One that crashed because its port was taken
 * in the moment before it listened (another program bound it) boots again on another port:
 * that is the machine's doing, not the release's. `replaced` learns of each new process.
 */
export async function waitBooted(first: Instance, cancel: { cancelled: boolean }, host: BootHost, replaced: (next: Instance) => void): Promise<void> {
  let instance = first;
  for (let attempt = 1; ; attempt++) {
    try {
      return await waitHealthy(instance, cancel);
    } catch (err) {
      const retry = err instanceof BootFailure && attempt < PORT_ATTEMPTS && !cancel.cancelled && !stoppedMeanwhile(instance) && portTakenOnBoot(err.detail);
      if (!retry) throw err;
      host.log(`instance ${instance.id}: port ${instance.port} was taken before the app could listen on it; starting it on another port`);
      await host.stop(instance);
      if (cancel.cancelled) throw err;
      appendFileSync(instance.logFile, `${PORT_RETRY_MARK}\n`);
      instance = await host.launchAgain(instance);
      replaced(instance);
    }
  }
}

function bootFailure(instance: Instance, what: string, fix?: string): BootFailure {
  const message = `instance ${instance.id} of release ${instance.spec.id} ${what}`;
  // What the app wrote last may still wait in its log pipe.
  instance.log.drain();
  return new BootFailure(message, unstamp(tailFile(instance.logFile, 20)), fix);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
