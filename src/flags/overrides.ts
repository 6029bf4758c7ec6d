import type { FlagDefinition } from './definitions.js';

/**
 * What an operator decided at run time for a flag, in place of its file's state and targeting:
 * one variant for everyone (`set`, the kill switch), or a share of targeting keys on the `on`
 * variant (`rollout`). Kept by the agent in the app's state, so it outlives restarts and deploys.
 */
export type FlagOverride =
  | { kind: 'variant'; variant: string }
  | { kind: 'rollout'; percent: number; on: string; off: string };

/** Rollout shares are weights out of 10,000 in flagd's `fractional`: 0.01% steps. */
export const ROLLOUT_SCALE = 10_000;

/** The variant `on` (or `off`) names for a flag: one so called, else the boolean true (false) one. */
export function onOffVariant(flag: FlagDefinition, which: 'on' | 'off'): string | undefined {
  if (Object.hasOwn(flag.variants, which)) return which;
  const wanted = which === 'on';
  const byValue = Object.entries(flag.variants).find(([, v]) => v === wanted)?.[0];
  if (byValue) return byValue;
  return which === 'off' ? (flag.defaultVariant ?? undefined) : undefined;
}

/** How an override reads in `ccom flags` and the audit trail. */
export function describeOverride(o: FlagOverride | null | undefined): string {
  if (!o) return 'as in the file';
  return o.kind === 'variant' ? `variant ${o.variant} for everyone` : `${formatPercent(o.percent)} on ${o.on} (else ${o.off})`;
}

export function formatPercent(p: number): string {
  return `${Number.isInteger(p) ? p : p.toFixed(2).replace(/0+$/, '')}%`;
}

/** "10%", "10", "0.5%": a share from 0 to 100; undefined when it is none. */
export function parsePercent(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(text.trim());
  if (!m) return undefined;
  const p = Number(m[1]);
  return p >= 0 && p <= 100 ? Math.round(p * 100) / 100 : undefined;
}
