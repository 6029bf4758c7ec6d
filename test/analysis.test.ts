import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Config } from '../src/config/types.js';
import { judge } from '../src/analysis/judge.js';
import { countSlowerThan, quantileMs, windowOf, type MetricsSnapshot, type ReleaseMetrics } from '../src/analysis/metrics.js';
import { judgeEvidence } from '../src/analysis/evidence.js';
import { rankTest, wilsonLower, Z_99 } from '../src/analysis/stats.js';
import { LatencyHistogram, LATENCY_BOUNDS_MS } from '../src/proxy/latency.js';

const BOUNDS = [...LATENCY_BOUNDS_MS];

/** The config defaults (SPEC): 1% errors, p99 500 ms, 1.5× the stable p99, 20 requests. */
const ANALYSIS: Config['analysis'] = {
  maxErrorRate: 0.01,
  maxLatencyP99Ms: 500,
  maxLatencyRatio: 1.5,
  minRequests: 20,
  inconclusiveTimeoutMs: 60_000,
  onInconclusive: 'rollback',
  warmupMs: 1000,
  minLatencyDeltaMs: 25,
  probeRate: 10,
  watchMs: 0,
};

/**
 * A window of `requests` responses built the way the proxy builds it: every latency recorded in
 * the real histogram. `groups` are [count, ms] pairs; `errors` of them answered 5xx.
 */
function windowOfRequests(groups: Array<[count: number, ms: number]>, errors = 0): ReleaseMetrics {
  const histogram = new LatencyHistogram();
  let requests = 0;
  for (const [count, ms] of groups) {
    for (let i = 0; i < count; i++) histogram.record(ms);
    requests += count;
  }
  return { requests, status5xx: errors, connectionErrors: 0, latency: histogram.snapshot() };
}

const decide = (canary: ReleaseMetrics, stable: ReleaseMetrics | undefined, final: boolean, analysis: Partial<Config['analysis']> = {}) =>
  judge(canary, stable, { ...ANALYSIS, ...analysis }, BOUNDS, final);

test('below minRequests the judge waits, and says inconclusive at the end of a step', () => {
  const few = windowOfRequests([[19, 2]], 19);
  const early = decide(few, undefined, false);
  assert.equal(early.kind, 'undecided', 'even 19 errors of 19 do not decide below minRequests');
  assert.match(early.message, /only 19 of the 20 requests/);
  const atEnd = decide(few, undefined, true);
  assert.equal(atEnd.kind, 'inconclusive');
  assert.match(atEnd.message, /only 19 of the 20/);
  assert.equal(decide(windowOfRequests([]), undefined, true, { minRequests: 0 }).kind, 'inconclusive', 'no traffic at all is never a pass');
});

test('4 of 20 errors fail at once, mid-step (sequential test)', () => {
  const verdict = decide(windowOfRequests([[20, 2]], 4), undefined, false);
  assert.equal(verdict.kind, 'fail');
  assert.equal(verdict.kind === 'fail' && verdict.metric, 'error-rate');
  assert.match(verdict.message, /error rate 20\.0% \(4 of 20 requests failed\) > allowed 1\.00%/);
  const viaConnections = decide({ ...windowOfRequests([[20, 2]]), connectionErrors: 4 }, undefined, false);
  assert.equal(viaConnections.kind, 'fail', 'connection errors count as errors too');
});

test('1 of 200 errors at maxErrorRate 1% does not fail; 3 of 100 fail only in the final verdict', () => {
  for (const final of [false, true]) {
    const verdict = decide(windowOfRequests([[200, 2]], 1), undefined, final);
    assert.equal(verdict.kind, final ? 'pass' : 'undecided', `1 of 200 (final=${final}): ${verdict.message}`);
  }
  const threeOf100 = windowOfRequests([[100, 2]], 3);
  assert.equal(decide(threeOf100, undefined, false).kind, 'undecided', '3% is not yet above 1% with 99% confidence');
  const final = decide(threeOf100, undefined, true);
  assert.equal(final.kind, 'fail');
  assert.match(final.message, /error rate 3\.00% \(3 of 100 requests failed\) > allowed 1\.00%/);
});

test('an absolute p99 above maxLatencyP99 fails on evidence only, and not when the stable release is as slow', () => {
  const allSlow = decide(windowOfRequests([[100, 600]]), undefined, false);
  assert.equal(allSlow.kind === 'fail' && allSlow.metric, 'latency-p99', allSlow.message);
  assert.match(allSlow.message, /p99 latency \d+ms > allowed 500ms \(100 of 100 slower\)/);

  // The p99 of 21 requests is their slowest: one stall. Not evidence, mid-step or at the end.
  const oneStall = windowOfRequests([[20, 10], [1, 600]]);
  for (const final of [false, true]) assert.notEqual(decide(oneStall, undefined, final).kind, 'fail');
  // A machine too busy for the limit: the stable release is just as often over it.
  const busy = windowOfRequests([[16, 300], [6, 900]]);
  assert.equal(decide(busy, undefined, true).kind, 'fail', 'alone, 6 of 22 over the limit fails');
  assert.equal(decide(busy, windowOfRequests([[150, 300], [50, 900]]), true).kind, 'pass', 'beside a stable release as slow, it does not');
  const reference = judge(busy, undefined, ANALYSIS, BOUNDS, true, { reference: windowOfRequests([[150, 300], [50, 900]]) });
  assert.equal(reference.kind, 'pass', 'nor beside the stable release of the step before (the 100% step)');

  assert.equal(decide(windowOfRequests([[100, 400]]), undefined, true).kind, 'pass', '400 ms is within a 500 ms limit');
});

test('300 ms slower than a 2 ms stable release fails on the ratio', () => {
  const stable = windowOfRequests([[100, 2]]);
  const canary = windowOfRequests([[100, 302]]);
  const verdict = decide(canary, stable, false);
  assert.equal(verdict.kind === 'fail' && verdict.metric, 'latency-ratio', verdict.message);
  assert.match(verdict.message, /p99 latency \d+ms is \d+\.\d× the stable release's 2\.0ms > allowed 1\.5×/);
  assert.equal(decide(canary, undefined, true).kind, 'pass', 'without a stable release to compare, 302 ms is within 500 ms');
});

/**
 * At a 50% step both releases see about the same number of requests, so the canary often reaches
 * minRequests a moment before the stable release does. Skipping the comparison then must not
 * turn into a pass: a release 150× slower would be promoted on the strength of no baseline.
 */
test('a final verdict does not pass a much slower canary while the stable release is short of minRequests', () => {
  const canary = windowOfRequests([[20, 302]]);
  const stable = windowOfRequests([[19, 2]]);
  const verdict = decide(canary, stable, true);
  assert.notEqual(verdict.kind, 'pass', `the ratio was never checked, yet: ${verdict.kind} (${verdict.message})`);
});

test('a canary 1 ms slower than a 1 ms stable release does not fail: the absolute floor', () => {
  const stable = windowOfRequests([[200, 1]]);
  const canary = windowOfRequests([[200, 2]]);
  const canaryP99 = quantileMs(canary.latency, BOUNDS, 0.99) ?? 0;
  const stableP99 = quantileMs(stable.latency, BOUNDS, 0.99) ?? 0;
  assert.ok(canaryP99 / stableP99 > 1.5, `the ratio alone (${canaryP99}/${stableP99}) would exceed 1.5×`);
  for (const final of [false, true]) assert.equal(decide(canary, stable, final).kind, final ? 'pass' : 'undecided');
  const clearlySlower = decide(windowOfRequests([[200, 40]]), stable, false);
  assert.equal(clearlySlower.kind === 'fail' && clearlySlower.metric, 'latency-ratio', 'but 39 ms slower is beyond the floor');
  const noFloor = judge(canary, stable, { ...ANALYSIS, minLatencyDeltaMs: 0 }, BOUNDS, true);
  assert.equal(noFloor.kind === 'fail' && noFloor.metric, 'latency-ratio', 'analysis.minLatencyDelta: 0 judges the ratio alone');
});

test('windowOf subtracts snapshots per release; a release missing from the earlier one starts at zero', () => {
  const h = new LatencyHistogram();
  h.record(1);
  const earlier: MetricsSnapshot = { at: 0, boundsMs: BOUNDS, releases: { a: { requests: 10, status5xx: 1, connectionErrors: 0, latency: h.snapshot() } } };
  h.record(1);
  h.record(100);
  const later: MetricsSnapshot = {
    at: 1,
    boundsMs: BOUNDS,
    releases: {
      a: { requests: 12, status5xx: 2, connectionErrors: 1, latency: h.snapshot() },
      b: { requests: 5, status5xx: 0, connectionErrors: 0, latency: h.snapshot() },
    },
  };
  const a = windowOf(later, earlier, 'a');
  assert.deepEqual([a.requests, a.status5xx, a.connectionErrors], [2, 1, 1]);
  assert.equal(a.latency.reduce((s, c) => s + c, 0), 2);
  assert.equal(quantileMs(a.latency, BOUNDS, 0.99)! >= 100, true, 'the window holds the 100 ms response');
  assert.equal(windowOf(later, earlier, 'b').requests, 5);
  assert.equal(windowOf(later, earlier, 'gone').requests, 0);
});

test('quantileMs reads bucket upper bounds; countSlowerThan counts only certainly-slower buckets', () => {
  const w = windowOfRequests([[90, 10], [10, 200]]);
  const p50 = quantileMs(w.latency, BOUNDS, 0.5)!;
  const p99 = quantileMs(w.latency, BOUNDS, 0.99)!;
  assert.ok(p50 >= 10 && p50 < 10 * 1.15 + 1e-9, `p50 ${p50} is the bucket holding 10 ms`);
  assert.ok(p99 >= 200 && p99 < 200 * 1.15 + 1e-9, `p99 ${p99} is the bucket holding 200 ms`);
  assert.equal(quantileMs(windowOfRequests([]).latency, BOUNDS, 0.99), undefined);
  assert.equal(countSlowerThan(w.latency, BOUNDS, 100), 10);
  assert.equal(countSlowerThan(w.latency, BOUNDS, 5), 100);
  assert.equal(countSlowerThan(w.latency, BOUNDS, 199), 0, 'a response in the bucket around 199 ms is not certainly slower');
  assert.equal(quantileMs(windowOfRequests([[1, 500_000]]).latency, BOUNDS, 0.99), Infinity, 'beyond the last bound');
});

test('wilsonLower matches the textbook Wilson score bound', () => {
  const close = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 5e-4, `${actual} ≈ ${expected}`);
  close(wilsonLower(5, 10, 1.96), 0.2366); // 95% two-sided interval for 5/10: [0.2366, 0.7634]
  close(wilsonLower(10, 10, 1.96), 0.7225);
  close(wilsonLower(1, 20, 1.96), 0.0089);
  close(wilsonLower(0, 50, Z_99), 0);
  assert.equal(wilsonLower(0, 0, Z_99), 0, 'no requests, no evidence');
  assert.ok(Math.abs(Z_99 - 2.326) < 0.001, 'Z_99 is the one-sided 99% normal quantile');
  for (const n of [20, 100, 1000]) assert.ok(wilsonLower(n / 10, n, Z_99) < 0.1, 'the lower bound stays below the observed rate');
  assert.ok(wilsonLower(100, 1000, Z_99) > wilsonLower(10, 100, Z_99), 'more evidence, tighter bound');
});

test('windowOf counts from zero when a release\'s counters went down (the agent was started again)', () => {
  const h = new LatencyHistogram();
  h.record(5);
  const before: MetricsSnapshot = { at: 0, boundsMs: BOUNDS, releases: { a: { requests: 500, status5xx: 9, connectionErrors: 1, latency: new Array(BOUNDS.length + 1).fill(5) } } };
  const after: MetricsSnapshot = { at: 1, boundsMs: BOUNDS, releases: { a: { requests: 1, status5xx: 0, connectionErrors: 0, latency: h.snapshot() } } };
  const w = windowOf(after, before, 'a');
  assert.deepEqual([w.requests, w.status5xx, w.connectionErrors], [1, 0, 0]);
  assert.ok(w.latency.every((c) => c >= 0), 'no negative bucket');
});

test('rankTest is the Mann-Whitney U test with midranks for ties (matches scipy.stats.mannwhitneyu)', () => {
  // Buckets as values: canary [1,2,2,3,5,5,5,8], stable [1,1,2,2,2,3,3,4,4].
  // scipy: U = 50, one-sided asymptotic p = 0.0924 with continuity correction (z = 1.326).
  const r = rankTest([0, 1, 2, 1, 0, 3, 0, 0, 1], [0, 2, 3, 2, 2]);
  assert.ok(Math.abs(r.slowerShare - 50 / 72) < 1e-9, `U / (n1 n2) = ${r.slowerShare}`);
  assert.ok(Math.abs(r.z - 1.3261) < 1e-3, `z ${r.z}`);
  assert.deepEqual(rankTest([5], [5]), { z: 0, slowerShare: 0.5 }, 'all ties: no difference');
  assert.equal(rankTest([0, 0, 10], [10]).slowerShare, 1);
  assert.equal(rankTest([10], [0, 10]).z, 0, 'a faster canary is not evidence of slowness');
  assert.deepEqual(rankTest([], [3]), { z: 0, slowerShare: 0.5 }, 'no requests, no evidence');
});

/**
 * The reported false alarm: "p99 latency 44ms is 4.7× the stable release's 9.4ms". The new
 * release answers like the stable one, but a few of its requests met a stall (a cold start, a
 * busy core): its p99, from 200 requests, sits in that tail.
 */
test('a slow tail on a release that ranks like the stable one is not a latency regression', () => {
  const stable = windowOfRequests([[1980, 6], [20, 9.4]]);
  const canary = windowOfRequests([[194, 6], [6, 44]]);
  const p99 = quantileMs(canary.latency, BOUNDS, 0.99)!;
  assert.ok(p99 > 9.4 * 1.5 && p99 > 9.4 + 25, `by its p99 alone (${p99} ms) the canary is over both limits`);
  for (const final of [false, true]) {
    const verdict = decide(canary, stable, final);
    assert.equal(verdict.kind, final ? 'pass' : 'undecided', verdict.message);
  }
});

/** A seeded PRNG: the same samples on every run. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

test('400 pairs of equal releases on a noisy machine (log-normal latency, stalls of 30–80 ms): none fails', () => {
  const next = random(42);
  const latency = () => {
    const normal = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    const stall = next() < 0.02 ? 30 + 50 * next() : 0;
    return 3 * Math.exp(0.5 * normal) + stall;
  };
  const windowOfN = (n: number) => windowOfRequests(Array.from({ length: n }, () => [1, latency()] as [number, number]));
  const failures: string[] = [];
  for (let i = 0; i < 400; i++) {
    const canary = windowOfN(20 + Math.floor(next() * 200));
    const verdict = decide(canary, windowOfN(200 + Math.floor(next() * 1800)), true);
    if (verdict.kind === 'fail') failures.push(verdict.message);
  }
  assert.deepEqual(failures, []);
});

test('every request 300 ms slower fails on the ratio from 20 requests; a third of them 100 ms slower too', () => {
  const stable = windowOfRequests([[2000, 3]]);
  const verdict = decide(windowOfRequests([[20, 303]]), stable, false);
  assert.equal(verdict.kind === 'fail' && verdict.metric, 'latency-ratio', verdict.message);
  assert.match(verdict.message, /rank test: slower in 100% of request pairs, z \d+\.\d/);
  const partly = decide(windowOfRequests([[140, 3], [70, 103]]), stable, false);
  assert.equal(partly.kind === 'fail' && partly.metric, 'latency-ratio', partly.message);
});

test('probe evidence is judged apart from live traffic and named in every verdict', () => {
  const quiet = { canary: windowOfRequests([[3, 2]]), stable: windowOfRequests([[5, 2]]) };
  const run = (canary: ReleaseMetrics, final: boolean) => judgeEvidence(quiet, { canary, stable: windowOfRequests([[40, 2]]) }, ANALYSIS, BOUNDS, final, false);
  const flaky = run(windowOfRequests([[40, 2]], 8), false);
  assert.equal(flaky.kind === 'fail' && flaky.metric, 'error-rate');
  assert.match(flaky.message, /error rate 20\.0% \(8 of 40 probe requests failed\) > allowed 1\.00%/);
  const good = run(windowOfRequests([[40, 2]]), true);
  assert.equal(good.kind, 'pass');
  assert.match(good.message, /^on ccom's probes: 40 probe requests, error rate 0\.00%.*\(live traffic: only 3 of the 20 requests needed/);
  const slow = run(windowOfRequests([[40, 302]]), false);
  assert.equal(slow.kind === 'fail' && slow.metric, 'latency-ratio');
  assert.match(slow.message, /^p99 latency of probe requests \d+ms is/);
  const short = run(windowOfRequests([[7, 2]]), true);
  assert.equal(short.kind, 'inconclusive');
  assert.match(short.message, /only 3 of the 20 requests .*; only 7 of the 20 probe requests/);
  const live = judgeEvidence({ canary: windowOfRequests([[40, 2]]), stable: windowOfRequests([[40, 2]]) }, undefined, ANALYSIS, BOUNDS, true, false);
  assert.doesNotMatch(live.message, /probe/, 'without probes, nothing is said of them');
});
