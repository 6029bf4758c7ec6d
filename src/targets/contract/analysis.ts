/**
 * The thresholds a target judges live traffic by (the post-switch watch): the config's
 * `analysis:` section, durations in ms and rates as fractions.
 */
export interface AnalysisThresholds {
  maxErrorRate: number;
  maxLatencyP99Ms: number;
  maxLatencyRatio: number;
  minRequests: number;
  /** How long a step may stay inconclusive (too little traffic) before `onInconclusive` applies. */
  inconclusiveTimeoutMs: number;
  onInconclusive: 'rollback' | 'promote';
  /** Latency is judged only after a new release served this long (JIT, cold caches). */
  warmupMs: number;
  /** A p99 ratio fails a canary only when it is also this much slower than stable. */
  minLatencyDeltaMs: number;
  /** Requests/s of ccom's own probes to each release while live traffic is short of minRequests (0: off). */
  probeRate: number;
  /** After traffic moved, how long the target judges the new release with the previous one warm (0: no watch). */
  watchMs: number;
}
