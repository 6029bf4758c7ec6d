/** Median and p90 (nearest rank) of a sample; numbers in, numbers out. */
export interface Summary {
  n: number;
  median: number;
  p90: number;
  min: number;
  max: number;
}

export function summarize(values: number[]): Summary {
  if (values.length === 0) return { n: 0, median: NaN, p90: NaN, min: NaN, max: NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  // Nearest rank: the smallest value with at least 90% of the sample at or below it.
  const p90 = sorted[Math.max(0, Math.ceil(0.9 * sorted.length) - 1)]!;
  return { n: sorted.length, median, p90, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

export function median(values: number[]): number {
  return summarize(values).median;
}

/** Rounds to one decimal: enough for milliseconds and megabytes, short enough for a table. */
export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
