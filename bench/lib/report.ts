/** What every benchmark returns: rows to print, ratios against peers, and why anything was skipped. */
export interface BenchRow {
  label: string;
  unit: 'ms' | 'MB';
  median?: number;
  p90?: number;
  /** A single reading (memory), when there is no distribution. */
  value?: number;
  n?: number;
}

export interface BenchRatio {
  label: string;
  value: number | null;
  /** The goal this ratio is read against, e.g. "≤ 2×"; informational, never asserted. */
  target?: string;
}

export interface BenchResult {
  name: string;
  title: string;
  rows: BenchRow[];
  ratios: BenchRatio[];
  notes: string[];
}

const fmt = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '—' : v.toFixed(1));

/** Prints one benchmark as a small aligned table, then its ratios and notes. */
export function printResult(result: BenchResult): void {
  // Single readings (memory) get a "value" column; distributions get median, p90 and n.
  const single = result.rows.every((r) => r.value !== undefined);
  const header = single ? ['measure', 'value', 'unit'] : ['measure', 'median', 'p90', 'unit', 'n'];
  const lines = result.rows.map((r) =>
    single ? [r.label, fmt(r.value), r.unit] : [r.label, fmt(r.value ?? r.median), fmt(r.p90), r.unit, r.n === undefined ? '' : String(r.n)],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`\n## ${result.title}\n`);
  console.log(row(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(row(l));
  if (result.ratios.length > 0) console.log('');
  for (const r of result.ratios) {
    const value = r.value === null ? 'n/a (peer skipped)' : r.value < 0.01 && r.value > 0 ? `${r.value.toPrecision(2)}× (1/${Math.round(1 / r.value)})` : `${r.value.toFixed(2)}×`;
    console.log(`ratio ${r.label}: ${value}${r.target ? `  (target ${r.target})` : ''}`);
  }
  for (const n of result.notes) console.log(`note: ${n}`);
}

/** a / b, or null when either side is missing (a peer was skipped). */
export function ratio(a: number | undefined, b: number | undefined): number | null {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return a / b;
}
