import { probeHealth } from './health-probe.js';
import type { Instance } from './instance.js';

export type WatchAction = { kind: 'none' } | { kind: 'changed'; log?: string } | { kind: 'restart'; why: string };

/** Bounds of the health-check period the agent will run, whatever the config says. */
export const MIN_HEALTH_INTERVAL_MS = 100;
export const MAX_HEALTH_INTERVAL_MS = 3_600_000;

/**
 * The health-check period, clamped: timers treat 0, NaN and anything of 2^31 ms or more as
 * 1 ms, which would turn a typo into a check loop that eats a core.
 */
export function healthIntervalMs(configured: number): number {
  if (!Number.isFinite(configured)) return MAX_HEALTH_INTERVAL_MS;
  return Math.min(MAX_HEALTH_INTERVAL_MS, Math.max(MIN_HEALTH_INTERVAL_MS, configured));
}

/**
 * One periodic health check of an instance in service (limits.memory is sampled for all
 * instances at once, see memory-check.ts): `failuresBeforeUnhealthy` failed health checks in a row → out of the pool; unhealthy for
 * longer than health.timeout → restart; healthy again → back in the pool.
 */
export async function checkInService(instance: Instance, failuresBeforeUnhealthy: number): Promise<WatchAction> {
  if (instance.state !== 'healthy' && instance.state !== 'unhealthy') return { kind: 'none' };
  const { path, timeoutMs } = instance.spec.health;
  const probe = await probeHealth(instance.port, path, Math.min(10_000, Math.max(1000, healthIntervalMs(instance.spec.health.intervalMs))));
  instance.lastObserved = probe.observed;
  if (probe.ok) {
    instance.consecutiveFailures = 0;
    if (instance.state !== 'unhealthy') return { kind: 'none' };
    instance.state = 'healthy';
    instance.healthySince = Date.now();
    return { kind: 'changed', log: `instance ${instance.id} is healthy again; back in the pool` };
  }
  instance.consecutiveFailures++;
  if (instance.state === 'healthy' && instance.consecutiveFailures >= failuresBeforeUnhealthy) {
    instance.state = 'unhealthy';
    instance.unhealthySince = Date.now();
    return { kind: 'changed', log: `instance ${instance.id} is unhealthy (${probe.observed}); out of the pool` };
  }
  if (instance.state === 'unhealthy' && Date.now() - instance.unhealthySince > timeoutMs) {
    return { kind: 'restart', why: `unhealthy for ${timeoutMs}ms (${probe.observed})` };
  }
  return { kind: 'none' };
}
