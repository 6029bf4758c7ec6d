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
