import { UserError } from '../errors.js';
import type { Instance } from './instance.js';
import { healthIntervalMs } from './health-watch.js';
import { procStats } from './proc-stats.js';

/** No app runs in less: a smaller limits.memory can only restart instances over and over. */
export const MIN_MEMORY_LIMIT_BYTES = 16e6;
/** How long new, healthy instances are measured before they may take traffic. */
const WINDOW_MS = 1000;
const EVERY_MS = 100;
/** Memory restarts this long apart are not a streak: the backoff starts over. */
const CALM_MS = 60_000;
const MAX_MEMORY_BACKOFF_MS = 30_000;

const mb = (n: number) => `${Math.round(n / 1e6)}MB`;

/**
 * Measures new instances for a short window after they became healthy: one over
 * `limits.memory` already would be restarted for memory again and again once it takes
 * traffic, so the deploy fails here, before the switch.
 */
export async function checkMemoryBeforeTraffic(instances: Instance[], cancelled: () => boolean): Promise<void> {
  const limit = instances[0]?.spec.memoryLimit;
  if (!limit) return;
  if (limit < MIN_MEMORY_LIMIT_BYTES) {
    const fix = `set limits.memory above what the app uses (at least ${mb(MIN_MEMORY_LIMIT_BYTES)}), e.g. 256MB`;
    throw new UserError(`limits.memory of ${limit} bytes is below the minimum of ${mb(MIN_MEMORY_LIMIT_BYTES)}, so every instance would be restarted for memory at once: ${fix}`, { fix });
  }
  for (let waited = 0; waited <= WINDOW_MS && !cancelled(); waited += EVERY_MS) {
    for (const instance of instances) {
      const rss = procStats(instance.handle.pid)?.rssBytes;
      if (rss !== undefined && rss > limit) {
        // The fix is part of the message: a failed start is reported with its reason.
        const fix = `raise limits.memory above the app's use (${mb(rss)} right after boot, more under load), or make the app use less`;
        throw new UserError(`instance ${instance.id} of release ${instance.spec.id} uses ${mb(rss)} of memory, above limits.memory of ${mb(limit)}, so it would be restarted for memory again and again: ${fix}`, { fix });
      }
    }
    await new Promise((resolve) => setTimeout(resolve, EVERY_MS));
  }
}

/**
 * How long to wait before starting again an instance restarted for memory: at once the first
 * time, then 1 s, 2 s, 4 s … up to 30 s while it keeps going over the limit, so an app
 * that cannot fit is not restarted twice a second.
 */
export function memoryRestartDelayMs(instance: Instance, now = Date.now()): number {
  instance.memoryStreak = now - instance.healthySince > CALM_MS ? 1 : instance.memoryStreak + 1;
  if (instance.memoryStreak <= 1) return 0;
  return Math.min(1000 * 2 ** (instance.memoryStreak - 2), MAX_MEMORY_BACKOFF_MS);
}

/** How often limits.memory is sampled when no instance asks for more frequent health checks. */
const DEFAULT_SAMPLE_MS = 1000;

/**
 * Samples limits.memory of every instance together, from one scan of /proc (see proc-stats.ts):
 * a scan per instance would multiply the cost by the number of instances. Runs as often as the
 * most frequent health check among limited instances asks, 1 s at most; an instance over its
 * limit is counted and handed to `restart`. Returns the function that stops sampling.
 */
export function sampleMemory(instances: () => Instance[], restart: (instance: Instance, why: string) => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = () => {
    const intervals = instances().filter((i) => i.spec.memoryLimit).map((i) => healthIntervalMs(i.spec.health.intervalMs));
    timer = setTimeout(() => {
      if (stopped) return;
      for (const { instance, why } of overMemoryLimit(instances())) {
        instance.memoryRestarts++;
        restart(instance, why);
      }
      schedule();
    }, Math.min(DEFAULT_SAMPLE_MS, ...intervals));
    timer.unref();
  };
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

function overMemoryLimit(instances: Instance[]): { instance: Instance; why: string }[] {
  const over: { instance: Instance; why: string }[] = [];
  for (const instance of instances) {
    const limit = instance.spec.memoryLimit;
    if (!limit || (instance.state !== 'healthy' && instance.state !== 'unhealthy')) continue;
    const rss = procStats(instance.handle.pid)?.rssBytes;
    if (rss !== undefined && rss > limit) over.push({ instance, why: `memory ${mb(rss)} above the limit of ${mb(limit)} (limits.memory)` });
  }
  return over;
}
