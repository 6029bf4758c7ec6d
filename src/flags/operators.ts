import type { CustomOperator, Data } from './json-logic.js';
import { murmur3 } from './murmur3.js';
import { compareSemVer, parseSemVer } from './semver.js';

/**
 * flagd's own JsonLogic operators. Each yields null on arguments it cannot use, as flagd's do:
 * the flag then falls back to its default variant (reason DEFAULT), never to an error.
 */
export const FLAGD_OPERATORS: Record<string, CustomOperator> = {
  fractional,
  sem_ver: semVer,
  starts_with: (args) => stringTest(args, (s, prefix) => s.startsWith(prefix)),
  ends_with: (args) => stringTest(args, (s, suffix) => s.endsWith(suffix)),
};

/** The flagd evaluation's own properties (`$flagd.flagKey`, `$flagd.timestamp`). */
export interface FlagdProperties {
  flagKey: string;
  timestamp: number;
}

/** The largest total weight flagd accepts (Go's MaxInt32). */
const MAX_WEIGHT = 2_147_483_647;

/**
 * `fractional`: [bucketBy?, [variant, weight]…]. Without an explicit bucketing value, the key is
 * the flag key followed by the targeting key (so one user lands differently per flag). The
 * 32-bit murmur3 hash, scaled to the total weight, picks the bucket: `hash * total >> 32`.
 */
export function fractional(args: unknown[], data: Data): unknown {
  if (args.length < 1) return null;
  let bucketBy: string;
  let entries: unknown[];
  if (typeof args[0] === 'string') {
    bucketBy = args[0];
    entries = args.slice(1);
  } else {
    const flagd = data.$flagd as FlagdProperties | undefined;
    const targetingKey = data.targetingKey;
    if (!flagd || !targetingKey) return null;
    bucketBy = `${flagd.flagKey}${String(targetingKey)}`;
    entries = args;
  }
  const buckets = bucketsFor(args, entries);
  if (buckets === null || buckets.total > MAX_WEIGHT) return null;
  const bucket = scaledHash(murmur3(bucketBy), buckets.total);
  let sum = 0;
  for (const { variant, weight } of buckets.list) {
    sum += weight;
    if (sum > bucket) return variant;
  }
  return null;
}

/** floor(hash × total / 2³²) exactly, without BigInt: both halves of the product stay below 2⁵³. */
export function scaledHash(hash: number, total: number): number {
  const high = Math.floor(hash / 65536);
  const low = hash % 65536;
  return Math.floor((high * total + Math.floor((low * total) / 65536)) / 65536);
}

/** Buckets of constant arguments (the usual rule) are read once per rule, not per evaluation. */
const cached = new WeakMap<unknown[], ReturnType<typeof bucketsOf>>();
function bucketsFor(args: unknown[], entries: unknown[]): ReturnType<typeof bucketsOf> {
  let buckets = cached.get(args);
  if (buckets === undefined) {
    buckets = bucketsOf(entries);
    cached.set(args, buckets);
  }
  return buckets;
}

function bucketsOf(entries: unknown[]): { list: { variant: unknown; weight: number }[]; total: number } | null {
  const list: { variant: unknown; weight: number }[] = [];
  let total = 0;
  for (const entry of entries) {
    if (!Array.isArray(entry) || entry.length === 0 || entry.length > 2) return null;
    const name = entry[0] as unknown;
    let variant: unknown;
    if (typeof name === 'string' || typeof name === 'number' || typeof name === 'boolean') variant = name;
    else if (name === null || name === undefined) variant = null;
    else return null;
    let weight = 1;
    if (entry.length === 2) {
      const raw = entry[1] as unknown;
      if (typeof raw !== 'number' || !Number.isInteger(raw)) return null;
      // A computed weight may come out negative (rollout arithmetic): flagd counts it as 0.
      weight = Math.max(0, raw);
    }
    list.push({ variant, weight });
    total += weight;
  }
  return { list, total };
}

/** `sem_ver`: [version, operator, version] with =, !=, <, <=, >, >=, ^ (same major), ~ (same minor). */
function semVer(args: unknown[]): unknown {
  if (args.length !== 3) return null;
  const a = parseSemVer(args[0]);
  const b = parseSemVer(args[2]);
  if (!a || !b) return null;
  const order = compareSemVer(a, b);
  switch (String(args[1])) {
    case '=': return order === 0;
    case '!=': return order !== 0;
    case '<': return order < 0;
    case '<=': return order <= 0;
    case '>': return order > 0;
    case '>=': return order >= 0;
    case '^': return a.major === b.major;
    case '~': return a.major === b.major && a.minor === b.minor;
    default: return null;
  }
}

function stringTest(args: unknown[], test: (s: string, part: string) => boolean): unknown {
  if (args.length !== 2 || typeof args[0] !== 'string' || typeof args[1] !== 'string') return null;
  return test(args[0], args[1]);
}
