import type { MetricsSnapshot, ReleaseMetrics } from '../targets/contract/metrics.js';

/** The snapshots are the Target contract's: what a target measured, read here as windows. */
export type { MetricsSnapshot, ReleaseMetrics };

export const EMPTY: ReleaseMetrics = { requests: 0, status5xx: 0, connectionErrors: 0, latency: [] };

/** The requests of one release between two snapshots. */
export function windowOf(later: MetricsSnapshot, earlier: MetricsSnapshot, release: string): ReleaseMetrics {
  const a = later.releases[release] ?? EMPTY;
  const before = earlier.releases[release] ?? EMPTY;
  // Counters that went down were reset (the agent was started again): count from zero.
  const b = a.requests < before.requests ? EMPTY : before;
  return {
    requests: a.requests - b.requests,
    status5xx: a.status5xx - b.status5xx,
    connectionErrors: a.connectionErrors - b.connectionErrors,
    latency: a.latency.map((count, i) => count - (b.latency[i] ?? 0)),
  };
}

/** Latency (ms, a bucket's upper bound) under which a share `q` of responses fall. */
export function quantileMs(counts: readonly number[], boundsMs: readonly number[], q: number): number | undefined {
  const total = counts.reduce((sum, c) => sum + c, 0);
  if (total === 0) return undefined;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i] ?? 0;
    if (seen >= rank) return boundsMs[i] ?? Infinity;
  }
  return Infinity;
}

/** Responses certainly slower than `ms`: those in buckets whose lower edge is at least `ms`. */
export function countSlowerThan(counts: readonly number[], boundsMs: readonly number[], ms: number): number {
  let slow = 0;
  for (let i = 1; i < counts.length; i++) {
    if ((boundsMs[i - 1] ?? Infinity) >= ms) slow += counts[i] ?? 0;
  }
  return slow;
}
