/**
 * What a target measured for one release, cumulative since its counters began (the judge reads
 * windows as the difference of two snapshots). `latency` holds histogram counts over `boundsMs`.
 */
export interface ReleaseMetrics {
  requests: number;
  status5xx: number;
  connectionErrors: number;
  latency: number[];
}

export interface MetricsSnapshot {
  at: number;
  boundsMs: number[];
  releases: Record<string, ReleaseMetrics>;
}
