import type { Config } from '../config/types.js';
import { countSlowerThan, quantileMs, type ReleaseMetrics } from './metrics.js';
import { rankTest, wilsonLower, Z_99, Z_999 } from './stats.js';

export type Verdict =
  | { kind: 'fail'; metric: 'error-rate' | 'latency-p99' | 'latency-ratio'; message: string; /** Ratio only: the share of request pairs in which the new release was slower. */ slowerShare?: number }
  | { kind: 'pass'; message: string }
  | { kind: 'undecided'; message: string }
  | { kind: 'inconclusive'; message: string };

/** The fewest requests over the p99 limit that count as evidence: one stall delays a few at once. */
const MIN_SLOW_EVIDENCE = 5;

/**
 * The effect-size floor of the rank test: a new release is slower by ratio only when a random
 * request of it is slower than a random stable one at least this often (0.5 is no difference).
 * A cold or briefly stalled process has a slow tail but ranks near 0.5; 60% means a real shift
 * of a large part of its requests (all of them 300 ms slower ranks at 1.0).
 */
const MIN_SLOWER_SHARE = 0.6;

export interface JudgeOptions {
  warmingUp?: boolean;
  /** What the requests were, named in every message: '' for live traffic, 'probe ' for ccom's own. */
  source?: '' | 'probe ';
  /**
   * The stable release's requests from the step before, for the absolute limit when nothing
   * is compared in the same window (the 100% step): a machine too busy for the limit makes
   * both releases slow, and that is no reason to go back.
   */
  reference?: ReleaseMetrics;
}

/**
 * Judges the new release's window against the thresholds (and against the stable release
 * measured in the same window). Called continuously: it fails as soon as a limit is exceeded
 * with 99% confidence; at the end of a step (`final`) the error rate's point estimate decides
 * too. Latency always needs evidence: see clearlySlow and latencyRatio.
 */
export function judge(
  canary: ReleaseMetrics,
  stable: ReleaseMetrics | undefined,
  analysis: Config['analysis'],
  boundsMs: number[],
  final: boolean,
  opts: JudgeOptions = {},
): Verdict {
  const what = `${opts.source ?? ''}requests`;
  const n = canary.requests;
  const min = Math.max(1, analysis.minRequests);
  if (n < min) return { kind: final ? 'inconclusive' : 'undecided', message: `only ${n} of the ${min} ${what} needed to judge the new release` };

  const errors = canary.status5xx + canary.connectionErrors;
  const rate = errors / n;
  const errorLimit = analysis.maxErrorRate;
  if (wilsonLower(errors, n, Z_99) > errorLimit || (final && rate > errorLimit)) {
    return fail('error-rate', `error rate ${pct(rate)} (${errors} of ${n} ${what} failed) > allowed ${pct(errorLimit)}`);
  }

  // Fresh processes answer their first requests slowly (JIT, cold caches): latency waits for warm-up.
  if (opts.warmingUp) return { kind: 'undecided', message: `${n} ${what}, error rate ${pct(rate)}, warming up` };

  const p99 = quantileMs(canary.latency, boundsMs, 0.99) ?? 0;
  const of = opts.source ? ` of ${what}` : '';
  const slowAbs = countSlowerThan(canary.latency, boundsMs, analysis.maxLatencyP99Ms);
  const base = stable && stable.requests >= min ? stable : opts.reference;
  const baseSlow = base ? countSlowerThan(base.latency, boundsMs, analysis.maxLatencyP99Ms) : 0;
  if (clearlySlow(slowAbs, n, base ? baseSlow / Math.max(1, base.requests) : 0)) {
    const compared = base ? `; the stable release: ${baseSlow} of ${base.requests}` : '';
    return fail('latency-p99', `p99 latency${of} ${ms(p99)} > allowed ${ms(analysis.maxLatencyP99Ms)} (${slowAbs} of ${n} slower${compared})`);
  }

  if (stable && stable.requests < min) {
    // Without enough stable requests in the same window the ratio cannot be judged: never a pass.
    const message = `the stable release had only ${stable.requests} of the ${min} ${what} needed to compare latency with`;
    return { kind: final ? 'inconclusive' : 'undecided', message };
  }
  if (stable) {
    const slower = latencyRatio(canary, stable, p99, analysis, boundsMs);
    if (slower) return { kind: 'fail', metric: 'latency-ratio', message: `p99 latency${of} ${slower.text}`, slowerShare: slower.slowerShare };
  }
  const summary = `${n} ${what}, error rate ${pct(rate)}, p99 ${ms(p99)}`;
  return final ? { kind: 'pass', message: summary } : { kind: 'undecided', message: summary };
}

/**
 * The canary is slower than the stable release by ratio only with both an effect and evidence:
 * its p99 beyond `maxLatencyRatio`× (and `minLatencyDelta` more than) the stable p99, and a rank
 * test saying its requests are slower as a whole (99.9%, and more than MIN_SLOWER_SHARE of
 * pairs). A p99 alone, from a few dozen requests on a busy machine, is one stall away from a
 * false alarm. Returns the message's figures when it is slower.
 */
function latencyRatio(canary: ReleaseMetrics, stable: ReleaseMetrics, p99: number, analysis: Config['analysis'], boundsMs: number[]): { text: string; slowerShare: number } | undefined {
  const stableP99 = quantileMs(stable.latency, boundsMs, 0.99) ?? 0;
  const limit = Math.max(stableP99 * analysis.maxLatencyRatio, stableP99 + analysis.minLatencyDeltaMs);
  if (p99 <= limit) return undefined;
  const ranks = rankTest(canary.latency, stable.latency);
  if (ranks.z < Z_999 || ranks.slowerShare < MIN_SLOWER_SHARE) return undefined;
  const ratio = stableP99 > 0 ? p99 / stableP99 : Infinity;
  const evidence = `rank test: slower in ${Math.round(ranks.slowerShare * 100)}% of request pairs, z ${ranks.z.toFixed(1)}`;
  return { text: `${ms(p99)} is ${ratio.toFixed(1)}× the stable release's ${ms(stableP99)} > allowed ${analysis.maxLatencyRatio}× (${evidence})`, slowerShare: ranks.slowerShare };
}

/**
 * "More than 1% of requests are slower than the limit, and more than of the stable release's"
 * with 99% confidence, from at least MIN_SLOW_EVIDENCE slow requests, mid-step and at its end
 * alike: the p99 of 20 requests is their slowest one, one stall of a busy machine away.
 */
function clearlySlow(slow: number, n: number, stableShare: number): boolean {
  return slow >= MIN_SLOW_EVIDENCE && wilsonLower(slow, n, Z_99) > Math.max(0.01, stableShare);
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
