/**
 * Fixed log-scale latency histogram: bucket i counts responses that took at most
 * LATENCY_BOUNDS_MS[i]; the last bucket counts everything slower than the last bound.
 * Buckets grow by 15%, so a quantile read from it overstates the true value by at most 15%.
 */
const FIRST_BOUND_MS = 0.5;
const GROWTH = 1.15;
const BUCKETS = 90; // 0.5 ms · 1.15^89 ≈ 120 s

export const LATENCY_BOUNDS_MS: readonly number[] = Array.from({ length: BUCKETS }, (_, i) => FIRST_BOUND_MS * GROWTH ** i);
const LOG_GROWTH = Math.log(GROWTH);

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS + 1);
  /** Sum of all recorded latencies, for Prometheus' `_sum`. */
  sumMs = 0;

  record(ms: number): void {
    this.sumMs += ms;
    const index = ms <= FIRST_BOUND_MS ? 0 : Math.ceil(Math.log(ms / FIRST_BOUND_MS) / LOG_GROWTH - 1e-9);
    this.counts[index < BUCKETS ? index : BUCKETS]! += 1;
  }

  /** Cumulative-since-start counts; subtract two snapshots to get a window. */
  snapshot(): number[] {
    return Array.from(this.counts);
  }
}
