import type { Config } from '../config/types.js';
import { countSlowerThan, quantileMs, type ReleaseMetrics } from './metrics.js';
import { wilsonLower, Z_99 } from './stats.js';

export type Verdict =
  | { kind: 'fail'; metric: 'error-rate' | 'latency-p99' | 'latency-ratio'; message: string }
  | { kind: 'pass'; message: string }
  | { kind: 'undecided'; message: string }
  | { kind: 'inconclusive'; message: string };

/**
 * A stable p99 of 1–2 ms makes "1.5× slower" a matter of scheduler noise; a canary is only
 * judged slower by ratio when it is also this much slower in absolute terms.
 */
const MIN_SLOW_EVIDENCE = 5;

/**
 * Judges the new release's window against the thresholds (and against the stable release
 * measured in the same window). Called continuously: it fails as soon as a limit is exceeded
 * with 99% confidence; at the end of a step (`final`) point estimates decide.
 */
export function judge(
  canary: ReleaseMetrics,
  stable: ReleaseMetrics | undefined,
  analysis: Config['analysis'],
  boundsMs: number[],
  final: boolean,
  opts: { warmingUp?: boolean } = {},
): Verdict {
  const n = canary.requests;
  const min = Math.max(1, analysis.minRequests);
  if (n < min) return { kind: final ? 'inconclusive' : 'undecided', message: `only ${n} of the ${min} requests needed to judge the new release` };

  const errors = canary.status5xx + canary.connectionErrors;
  const rate = errors / n;
  const errorLimit = analysis.maxErrorRate;
  if (wilsonLower(errors, n, Z_99) > errorLimit || (final && rate > errorLimit)) {
    return fail('error-rate', `error rate ${pct(rate)} (${errors} of ${n} requests failed) > allowed ${pct(errorLimit)}`);
  }

  // Fresh processes answer their first requests slowly (JIT, cold caches): latency waits for warm-up.
  if (opts.warmingUp) return { kind: 'undecided', message: `${n} requests, error rate ${pct(rate)}, warming up` };

  const p99 = quantileMs(canary.latency, boundsMs, 0.99) ?? 0;
  const slowAbs = countSlowerThan(canary.latency, boundsMs, analysis.maxLatencyP99Ms);
  if (clearlySlow(slowAbs, n) || (final && p99 > analysis.maxLatencyP99Ms)) {
    return fail('latency-p99', `p99 latency ${ms(p99)} > allowed ${ms(analysis.maxLatencyP99Ms)} (${slowAbs} of ${n} slower)`);
  }

  if (stable && stable.requests < min) {
    // Without enough stable requests in the same window the ratio cannot be judged: never a pass.
    const message = `the stable release had only ${stable.requests} of the ${min} requests needed to compare latency with`;
    return { kind: final ? 'inconclusive' : 'undecided', message };
  }
  if (stable) {
    const stableP99 = quantileMs(stable.latency, boundsMs, 0.99) ?? 0;
    const limit = Math.max(stableP99 * analysis.maxLatencyRatio, stableP99 + analysis.minLatencyDeltaMs);
    const slowRel = countSlowerThan(canary.latency, boundsMs, limit);
    if (clearlySlow(slowRel, n) || (final && p99 > limit)) {
      const ratio = stableP99 > 0 ? p99 / stableP99 : Infinity;
      return fail('latency-ratio', `p99 latency ${ms(p99)} is ${ratio.toFixed(1)}× the stable release's ${ms(stableP99)} > allowed ${analysis.maxLatencyRatio}×`);
    }
  }
  const summary = `${n} requests, error rate ${pct(rate)}, p99 ${ms(p99)}`;
  return final ? { kind: 'pass', message: summary } : { kind: 'undecided', message: summary };
}

/**
 * "More than 1% of requests are slower than the limit" with 99% confidence, from at least
 * MIN_SLOW_EVIDENCE slow requests: one stall of a busy machine delays a few requests at once.
 */
function clearlySlow(slow: number, n: number): boolean {
  return slow >= MIN_SLOW_EVIDENCE && wilsonLower(slow, n, Z_99) > 0.01;
}

function fail(metric: Extract<Verdict, { kind: 'fail' }>['metric'], message: string): Verdict {
  return { kind: 'fail', metric, message };
}

function pct(x: number): string {
  return `${(x * 100).toFixed(x < 0.1 ? 2 : 1)}%`;
}

function ms(x: number): string {
  return Number.isFinite(x) ? `${x < 10 ? x.toFixed(1) : Math.round(x)}ms` : '>120s';
}
