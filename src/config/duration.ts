const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
type Unit = keyof typeof UNIT_MS;

const DURATION = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)?$/;
const PERCENT = /^(\d+(?:\.\d+)?|\.\d+)\s*%$/;

/**
 * Parses `250ms`, `5s`, `2m`, `1h`, `1.5s` or a plain number of milliseconds.
 * Returns undefined for anything else (negative, NaN, unknown unit) so callers can report it.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const match = DURATION.exec(value.trim());
  if (!match) return undefined;
  const unit = (match[2] ?? 'ms') as Unit;
  return Math.round(Number(match[1]) * UNIT_MS[unit]);
}

/**
 * Parses a share: `1%`, `0.5%` or a fraction number `0.01`, into a fraction in [0, 1].
 * A bare number above 1 is rejected rather than guessed (is `5` 5% or 500%?).
 */
export function parseFraction(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 && value <= 1 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = PERCENT.exec(value.trim());
  if (!match) return undefined;
  const percent = Number(match[1]);
  // Divide then round away float noise (7% must be 0.07, not 0.07000000000000001).
  return percent <= 100 ? Number((percent / 100).toPrecision(12)) : undefined;
}

/** Renders milliseconds in the shortest unit that is exact: 1000 -> `1s`, 90000 -> `90s`, 120000 -> `2m`. */
export function formatDuration(ms: number): string {
  if (ms > 0 && ms % UNIT_MS.h === 0) return `${ms / UNIT_MS.h}h`;
  if (ms > 0 && ms % UNIT_MS.m === 0) return `${ms / UNIT_MS.m}m`;
  if (ms > 0 && ms % UNIT_MS.s === 0) return `${ms / UNIT_MS.s}s`;
  return `${ms}ms`;
}
