import { z } from 'zod';

/** Per instance, the live log file is rotated at this size (`logs.maxSize`). */
export const DEFAULT_LOG_MAX_BYTES = 10e6;
/** Rotated files kept per instance besides the live one (`<id>.log.1` … `.3`). */
export const ROTATED_LOGS_KEPT = 3;
/** Smaller than this, rotation would churn on every burst of output. */
const MIN_LOG_BYTES = 64e3;

const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, k: 1e3, m: 1e6, g: 1e9 };

const logSize = z.unknown().transform((value, ctx) => {
  const m = typeof value === 'string' ? /^(\d+(?:\.\d+)?)\s*([kmg]?b?)$/i.exec(value.trim()) : null;
  const unit = m ? UNITS[(m[2] || 'b').toLowerCase()] : undefined;
  const bytes = typeof value === 'number' ? value : m && unit ? Math.round(Number(m[1]) * unit) : undefined;
  if (bytes === undefined || !Number.isFinite(bytes) || bytes < MIN_LOG_BYTES) {
    ctx.addIssue({ code: 'custom', message: 'a size of at least 64KB, like 10MB', input: value });
    return z.NEVER;
  }
  return bytes;
});

/**
 * `logs:` of ccom.yaml. `maxSize`: each instance's log is rotated at this size, three older
 * files kept, so an instance's output takes at most 4 × maxSize on disk.
 */
export const logsSection = z
  .strictObject({ maxSize: logSize.default(DEFAULT_LOG_MAX_BYTES) }, { error: 'a mapping with keys maxSize' })
  .prefault({});
