import { existsSync } from 'node:fs';
import { messageOf } from '../errors.js';
import { stoppedMeanwhile, waitHealthy } from './boot-wait.js';
import type { Instance } from './instance.js';
import { findInstancePort } from './instance-port.js';
import { memoryRestartDelayMs } from './memory-check.js';
import { StartFailure, type ProcessHandle } from './process-handle.js';

/** What a restart needs of the supervisor. */
export interface RestartHost {
  /** False once the agent is closing or the instance was stopped and removed. */
  keeps(instance: Instance): boolean;
  spawn(instance: Instance, port: number): ProcessHandle;
  putInService(instance: Instance): void;
  /** Persists a change; never throws. */
  changed(): void;
  clearTimer(id: string): void;
  drain(upstreamIds: string[], timeoutMs: number): Promise<boolean>;
  log(message: string): void;
}

const MAX_BACKOFF_MS = 30_000;
const DEFAULT_DRAIN_MS = 30_000;

/**
 * Replaces the process of an instance in service, retrying with exponential backoff. Never
 * throws: whatever goes wrong is logged, and the agent keeps serving the other instances.
 */
export function restartInstance(host: RestartHost, instance: Instance, why: string, forMemory: boolean): void {
  // One restart at a time per instance: two would each spawn a process and orphan one.
  if (instance.restartInProgress) return;
  instance.restartInProgress = true;
  const firstDelayMs = forMemory ? memoryRestartDelayMs(instance) : 100;
  if (forMemory && firstDelayMs > 0) {
    host.log(`instance ${instance.id} went over limits.memory ${instance.memoryStreak} times in a row; waiting ${firstDelayMs / 1000}s before starting it again (raise limits.memory if the app needs more)`);
  }
  restartLoop(host, instance, why, firstDelayMs)
    .catch((err: Error) => host.log(`restart of ${instance.id} stopped: ${err.stack ?? err.message}`))
    .finally(() => (instance.restartInProgress = false));
}

async function restartLoop(host: RestartHost, instance: Instance, why: string, firstDelayMs: number): Promise<void> {
  host.clearTimer(instance.id);
  instance.state = 'restarting';
  host.changed();
  // A process that still answers (over its memory limit, failing health) finishes what it
  // has in flight before it is stopped; a crashed one has nothing left to drain.
  if (instance.handle.alive()) await host.drain([instance.upstreamId], instance.spec.drainTimeoutMs ?? DEFAULT_DRAIN_MS);
  await instance.handle.stop(instance.spec.stopTimeoutMs);
  for (let attempt = 0; host.keeps(instance); attempt++) {
    await sleep(attempt === 0 ? firstDelayMs : Math.min(100 * 2 ** attempt, MAX_BACKOFF_MS));
    if (!host.keeps(instance) || instance.state !== 'restarting') return;
    const port = await findInstancePort('127.0.0.1');
    // A stop may have come while the port was being found: then nothing must be spawned.
    if (!host.keeps(instance) || instance.state !== 'restarting') return;
    try {
      instance.handle = host.spawn(instance, port);
    } catch (err) {
      if (err instanceof StartFailure && !existsSync(instance.spec.dir)) return markFailed(host, instance, err);
      host.log(`restart of ${instance.id} could not start a process: ${messageOf(err)}; trying again`);
      continue;
    }
    instance.port = port;
    instance.restarts++;
    try {
      await waitHealthy(instance, { cancelled: false });
      host.log(`instance ${instance.id} restarted after: ${why}`);
      host.putInService(instance);
      host.changed();
      return;
    } catch (err) {
      if (stoppedMeanwhile(instance)) return;
      host.log(`restart of ${instance.id} failed: ${(err as Error).message}`);
      instance.state = 'restarting';
      await instance.handle.stop(instance.spec.stopTimeoutMs);
    }
  }
}

/**
 * The release directory is gone (pruned to free disk space): no retry can bring the instance
 * back, so it stays out of the pool, marked failed with the fix, and the others serve on.
 */
function markFailed(host: RestartHost, instance: Instance, err: StartFailure): void {
  instance.state = 'failed';
  instance.problem = `cannot be started again: ${err.message}; fix: ${err.fix}`;
  host.log(`instance ${instance.id} of release ${instance.spec.id} ${instance.problem}`);
  host.changed();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
