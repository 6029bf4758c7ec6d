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
const MIN_LATENCY_DELTA_MS = 25;

/**
 * Judges the new release's window against the thresholds (and against the stable release
 * measured in the same window). Called continuously: it fails as soon as a limit is exceeded
 * with 99% confidence; at the end of a step (`final`) point estimates decide.
 */
export function judge(canary: ReleaseMetrics, stable: ReleaseMetrics | undefined, analysis: Config['analysis'], boundsMs: number[], final: boolean): Verdict {
  const n = canary.requests;
  const min = Math.max(1, analysis.minRequests);
  if (n < min) return { kind: final ? 'inconclusive' : 'undecided', message: `only ${n} of the ${min} requests needed to judge the new release` };

  const errors = canary.status5xx + canary.connectionErrors;
  const rate = errors / n;
  const errorLimit = analysis.maxErrorRate;
  if (wilsonLower(errors, n, Z_99) > errorLimit || (final && rate > errorLimit)) {
    return fail('error-rate', `error rate ${pct(rate)} (${errors} of ${n} requests failed) > allowed ${pct(errorLimit)}`);
  }

  const p99 = quantileMs(canary.latency, boundsMs, 0.99) ?? 0;
  const slowAbs = countSlowerThan(canary.latency, boundsMs, analysis.maxLatencyP99Ms);
  if (wilsonLower(slowAbs, n, Z_99) > 0.01 || (final && p99 > analysis.maxLatencyP99Ms)) {
    return fail('latency-p99', `p99 latency ${ms(p99)} > allowed ${ms(analysis.maxLatencyP99Ms)} (${slowAbs} of ${n} slower)`);
  }

  if (stable && stable.requests >= min) {
    const stableP99 = quantileMs(stable.latency, boundsMs, 0.99) ?? 0;
    const limit = Math.max(stableP99 * analysis.maxLatencyRatio, stableP99 + MIN_LATENCY_DELTA_MS);
    const slowRel = countSlowerThan(canary.latency, boundsMs, limit);
    if (wilsonLower(slowRel, n, Z_99) > 0.01 || (final && p99 > limit)) {
      const ratio = stableP99 > 0 ? p99 / stableP99 : Infinity;
      return fail('latency-ratio', `p99 latency ${ms(p99)} is ${ratio.toFixed(1)}× the stable release's ${ms(stableP99)} > allowed ${analysis.maxLatencyRatio}×`);
    }
  }
  const summary = `${n} requests, error rate ${pct(rate)}, p99 ${ms(p99)}`;
  return final ? { kind: 'pass', message: summary } : { kind: 'undecided', message: summary };
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
