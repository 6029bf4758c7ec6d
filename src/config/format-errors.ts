import type { z } from 'zod';
import { nowhere, type Locate } from './positions.js';

type Path = readonly PropertyKey[];

/**
 * Turns zod issues into one line each: `<file>:L:C: <key path>: got <value>, expected <what>`,
 * or `<file>:L:C: unknown key "x" in <section> (did you mean "y"?)`. The value is read from the
 * raw document so the user sees what they wrote, not what a transform made of it.
 */
export function formatIssues(issues: readonly z.core.$ZodIssue[], raw: unknown, file: string, schema: z.ZodType, locate: Locate = nowhere): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, issue.path);
      for (const key of issue.keys) lines.push(`${file}${locate(issue.path, key)}: ${unknownKeyLine(key, issue.path, known, schema)}`);
      continue;
    }
    const where = issue.path.length === 0 ? '' : `${formatPath(issue.path)}: `;
    const found = valueAt(raw, issue.path);
    const got = found.present ? `got ${describe(found.value)}` : 'missing';
    lines.push(`${file}${locate(issue.path)}: ${where}${got}, expected ${issue.message}`);
  }
  return lines;
}

/** `gates[0].timeout` style: what users search for in their file. */
export function formatPath(path: Path): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : `${out === '' ? '' : '.'}${String(seg)}`;
  return out;
}

function valueAt(raw: unknown, path: Path): { present: boolean; value: unknown } {
  let cur: unknown = raw;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, seg)) return { present: false, value: undefined };
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return { present: cur !== undefined, value: cur };
}

function describe(value: unknown): string {
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return short(JSON.stringify(value), 'a list');
  if (typeof value === 'object') return `a mapping (${Object.keys(value).join(', ') || 'empty'})`;
  if (typeof value === 'string') return short(JSON.stringify(value), `a ${value.length}-character string`);
  return String(value);
}

function short(text: string | undefined, fallback: string): string {
  return text !== undefined && text.length <= 60 ? text : fallback;
}

// Users coming from Kamal, Compose or PM2 reach for these names first.
const TOP_LEVEL_ALIASES = new Map(Object.entries({
  name: 'app',
  service: 'app',
  command: 'start',
  cmd: 'start',
  script: 'start',
  replicas: 'instances',
  port: 'proxy.port',
  healthcheck: 'health',
  environment: 'env',
  steps: 'canary.steps',
  webhook: 'alerts.webhook',
}));

function unknownKeyLine(key: string, path: Path, known: string[], schema: z.ZodType): string {
  const where = path.length === 0 ? 'at top level' : `in ${formatPath(path)}`;
  const guess = closestKey(key, known) ?? (path.length === 0 ? topLevelGuess(key, known, schema) : undefined);
  return `unknown key "${key}" ${where}${guess ? ` (did you mean "${guess}"?)` : ''}`;
}

function topLevelGuess(key: string, known: string[], schema: z.ZodType): string | undefined {
  const alias = TOP_LEVEL_ALIASES.get(key.toLowerCase());
  if (alias !== undefined) return alias;
  // A key that belongs one level down (`interval` -> `health.interval`), when only one section has it.
  const homes = known.filter((section) => knownKeysAt(schema, [section]).includes(key));
  return homes.length === 1 ? `${homes[0]}.${key}` : undefined;
}

/** The closest known key when the typo is obvious: small edit distance, or one is a prefix of the other. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const k = key.toLowerCase().replace(/[-_]/g, '');
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const n = name.toLowerCase();
    const distance = k === n ? 0 : editDistance(k, n);
    const prefix = Math.min(k.length, n.length) >= 4 && (k.startsWith(n) || n.startsWith(k));
    const close = distance <= Math.max(1, Math.floor(Math.max(k.length, n.length) / 4));
    if ((close || prefix) && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** The subset of zod's schema definition we walk to find the keys an object accepts. */
interface SchemaDef {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  shape?: Record<string, z.ZodType>;
}

/** Keys the (strict) object at `path` accepts, read from the schema itself so they never drift. */
export function knownKeysAt(schema: z.ZodType, path: Path): string[] {
  let def = unwrap(schema);
  for (const seg of path) {
    const next = typeof seg === 'number' ? def.element : def.shape?.[String(seg)];
    if (next === undefined) return [];
    def = unwrap(next);
  }
  return Object.keys(def.shape ?? {});
}

function unwrap(schema: z.ZodType): SchemaDef {
  let def = schema.def as unknown as SchemaDef;
  for (;;) {
    const inner = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
    if (inner === undefined) return def;
    def = inner.def as unknown as SchemaDef;
  }
}
