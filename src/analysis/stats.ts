/**
 * Wilson score interval bounds for a proportion `hits / n`. The judge compares the lower
 * bound with a threshold: "the true rate is above the limit" with the stated confidence, after
 * every new request — a sequential test that decides as soon as the evidence is clear.
 */
export function wilsonLower(hits: number, n: number, z: number): number {
  if (n === 0) return 0;
  const p = hits / n;
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const margin = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return Math.max(0, (centre - margin) / (1 + z2 / n));
}

/** 99% one-sided: a healthy release is wrongly failed in about 1 check of 100 at worst. */
export const Z_99 = 2.326;

export interface RankTest {
  /** Standard score of U: how many standard deviations the new release ranks above chance. */
  z: number;
  /** P(a new request is slower than a stable one), ties counted half: 0.5 is no difference. */
  slowerShare: number;
}

/**
 * The Mann-Whitney U test (as Kayenta's canary judge uses) on two latency histograms over the
 * same buckets. It compares whole samples by rank, so a handful of stalled requests on a busy
 * machine barely moves it, while a release that is slower across the board stands out after a
 * few dozen requests. Requests in one bucket are ties: midranks, and the tie-corrected variance.
 */
export function rankTest(canary: readonly number[], stable: readonly number[]): RankTest {
  const n1 = canary.reduce((s, c) => s + c, 0);
  const n2 = stable.reduce((s, c) => s + c, 0);
  const n = n1 + n2;
  if (n1 === 0 || n2 === 0) return { z: 0, slowerShare: 0.5 };
  let below = 0;
  let rankSum = 0;
  let tieTerm = 0;
  const buckets = Math.max(canary.length, stable.length);
  for (let i = 0; i < buckets; i++) {
    const a = canary[i] ?? 0;
    const t = a + (stable[i] ?? 0);
    if (t === 0) continue;
    rankSum += a * (below + (t + 1) / 2);
    tieTerm += t * t * t - t;
    below += t;
  }
  const u = rankSum - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  // Continuity correction, towards no difference: small samples are not over-read.
  const z = variance > 0 ? Math.max(0, u - mean - 0.5) / Math.sqrt(variance) : 0;
  return { z, slowerShare: u / (n1 * n2) };
}

/** One-sided 99.9%: with checks every 100 ms, a step of equal releases rarely crosses it by chance. */
export const Z_999 = 3.09;
