import { createHash } from 'node:crypto';
import { compileLogic, escapePointer, LogicSyntaxError, type Compiled } from './json-logic.js';
import { FLAGD_OPERATORS } from './operators.js';

/**
 * flagd's flag-definition file (flagd.dev/reference/flag-definitions), validated with the JSON
 * pointer of each problem so a bad file blocks the deploy naming the exact place to fix.
 */
export type VariantValue = boolean | string | number | Record<string, unknown> | unknown[];
export type FlagType = 'boolean' | 'string' | 'number' | 'object';
export type FlagMetadata = Record<string, string | number | boolean>;

export interface FlagDefinition {
  key: string;
  state: 'ENABLED' | 'DISABLED';
  variants: Record<string, VariantValue>;
  defaultVariant: string | null;
  type: FlagType;
  /** The targeting rule with `$ref`s to `$evaluators` replaced, as written otherwise. */
  targeting: unknown;
  rule: Compiled | null;
  metadata: FlagMetadata;
}

export interface FlagSet {
  flags: Map<string, FlagDefinition>;
  metadata: FlagMetadata;
  /** SHA-256 of the file's text: part of every bulk evaluation's ETag. */
  digest: string;
}

export interface FlagProblem {
  /** JSON pointer: `/flags/new-checkout/defaultVariant`. */
  path: string;
  message: string;
}

/** A flag file that is not valid: every problem found, each at its JSON pointer. */
export class FlagFileError extends Error {
  constructor(readonly file: string, readonly problems: FlagProblem[]) {
    super(problems.map((p) => `${file}: ${p.path || '/'}: ${p.message}`).join('; '));
  }
}

const FLAG_KEYS = new Set(['state', 'variants', 'defaultVariant', 'targeting', 'metadata']);
const TOP_KEYS = new Set(['$schema', 'flags', '$evaluators', 'metadata']);

/** Parses and validates a flag file's text; throws FlagFileError naming each problem's JSON path. */
export function parseFlagFile(text: string, file: string): FlagSet {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new FlagFileError(file, [{ path: '', message: `not JSON: ${jsonErrorWhere(text, err as Error)}` }]);
  }
  const problems: FlagProblem[] = [];
  const flags = new Map<string, FlagDefinition>();
  const metadata: FlagMetadata = {};
  if (!isObject(doc)) throw new FlagFileError(file, [{ path: '', message: 'expected an object with a "flags" object' }]);
  for (const key of Object.keys(doc)) if (!TOP_KEYS.has(key)) problems.push({ path: `/${escapePointer(key)}`, message: `unknown key (expected ${[...TOP_KEYS].join(', ')})` });
  const evaluators = isObject(doc.$evaluators) ? doc.$evaluators : {};
  if (doc.$evaluators !== undefined && !isObject(doc.$evaluators)) problems.push({ path: '/$evaluators', message: 'expected an object of named rules' });
  readMetadata(doc.metadata, '/metadata', metadata, problems);
  if (!isObject(doc.flags)) {
    problems.push({ path: '/flags', message: doc.flags === undefined ? 'missing: the file needs a "flags" object' : 'expected an object of flags' });
  } else {
    for (const [key, raw] of Object.entries(doc.flags)) {
      const flag = readFlag(key, raw, `/flags/${escapePointer(key)}`, evaluators, problems);
      if (flag) flags.set(key, flag);
    }
  }
  if (problems.length > 0) throw new FlagFileError(file, problems);
  return { flags, metadata, digest: createHash('sha256').update(text).digest('hex') };
}

function readFlag(key: string, raw: unknown, at: string, evaluators: Record<string, unknown>, problems: FlagProblem[]): FlagDefinition | undefined {
  const before = problems.length;
  if (key === '') problems.push({ path: at, message: 'a flag key cannot be empty' });
  if (!isObject(raw)) {
    problems.push({ path: at, message: 'expected an object with state, variants and defaultVariant' });
    return undefined;
  }
  for (const k of Object.keys(raw)) if (!FLAG_KEYS.has(k)) problems.push({ path: `${at}/${escapePointer(k)}`, message: `unknown key (expected ${[...FLAG_KEYS].join(', ')})` });
  if (raw.state !== 'ENABLED' && raw.state !== 'DISABLED') problems.push({ path: `${at}/state`, message: `expected "ENABLED" or "DISABLED", got ${show(raw.state)}` });
  const variants = isObject(raw.variants) ? (raw.variants as Record<string, VariantValue>) : undefined;
  let type: FlagType = 'boolean';
  if (!variants || Object.keys(variants).length === 0) {
    problems.push({ path: `${at}/variants`, message: 'expected an object of at least one named variant, like {"on": true, "off": false}' });
  } else {
    const types = new Set(Object.values(variants).map(typeOfVariant));
    const first = Object.entries(variants)[0] as [string, VariantValue];
    type = typeOfVariant(first[1]) ?? 'boolean';
    for (const [name, value] of Object.entries(variants)) {
      const t = typeOfVariant(value);
      const where = `${at}/variants/${escapePointer(name)}`;
      if (name === '') problems.push({ path: where, message: 'a variant name cannot be empty' });
      if (t === undefined) problems.push({ path: where, message: `expected a boolean, string, number or object, got ${show(value)}` });
      else if (types.size > 1 && t !== type) problems.push({ path: where, message: `all variants of a flag have one type: "${first[0]}" is a ${type}, this is a ${t}` });
    }
  }
  const defaultVariant = raw.defaultVariant === undefined ? null : raw.defaultVariant;
  if (defaultVariant !== null && typeof defaultVariant !== 'string') problems.push({ path: `${at}/defaultVariant`, message: `expected a variant name or null, got ${show(defaultVariant)}` });
  else if (typeof defaultVariant === 'string' && variants && !Object.hasOwn(variants, defaultVariant)) {
    problems.push({ path: `${at}/defaultVariant`, message: `"${defaultVariant}" is not one of its variants (${Object.keys(variants).join(', ')})` });
  }
  const metadata: FlagMetadata = {};
  readMetadata(raw.metadata, `${at}/metadata`, metadata, problems);
  let targeting: unknown = raw.targeting;
  let rule: Compiled | null = null;
  if (targeting !== undefined && !isObject(targeting)) {
    problems.push({ path: `${at}/targeting`, message: 'expected a JsonLogic rule (an object)' });
  } else if (targeting !== undefined && Object.keys(targeting).length > 0) {
    try {
      targeting = resolveRefs(targeting, evaluators, `${at}/targeting`, []);
      rule = compileLogic(targeting, FLAGD_OPERATORS, `${at}/targeting`);
    } catch (err) {
      if (!(err instanceof LogicSyntaxError)) throw err;
      problems.push({ path: err.path, message: err.message });
    }
  }
  if (problems.length > before || !variants) return undefined;
  return { key, state: raw.state as FlagDefinition['state'], variants, defaultVariant: defaultVariant as string | null, type, targeting: targeting ?? null, rule, metadata };
}

/** `{"$ref": "name"}` stands for `$evaluators.name` (flagd's shared rules), resolved once at load. */
function resolveRefs(node: unknown, evaluators: Record<string, unknown>, at: string, seen: string[]): unknown {
  if (Array.isArray(node)) return node.map((item, i) => resolveRefs(item, evaluators, `${at}/${i}`, seen));
  if (!isObject(node)) return node;
  const keys = Object.keys(node);
  if (keys.length === 1 && keys[0] === '$ref') {
    const name = node.$ref;
    if (typeof name !== 'string' || !Object.hasOwn(evaluators, name)) {
      throw new LogicSyntaxError(`${at}/$ref`, `no evaluator ${show(name)} in /$evaluators (${Object.keys(evaluators).join(', ') || 'none defined'})`);
    }
    if (seen.includes(name)) throw new LogicSyntaxError(`${at}/$ref`, `evaluator "${name}" refers to itself (${[...seen, name].join(' → ')})`);
    return resolveRefs(evaluators[name], evaluators, `/$evaluators/${escapePointer(name)}`, [...seen, name]);
  }
  return Object.fromEntries(keys.map((k) => [k, resolveRefs(node[k], evaluators, `${at}/${escapePointer(k)}`, seen)]));
}

function readMetadata(raw: unknown, at: string, into: FlagMetadata, problems: FlagProblem[]): void {
  if (raw === undefined) return;
  if (!isObject(raw)) return void problems.push({ path: at, message: 'expected an object of strings, numbers and booleans' });
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') into[k] = v;
    else problems.push({ path: `${at}/${escapePointer(k)}`, message: `expected a string, number or boolean, got ${show(v)}` });
  }
}

function typeOfVariant(value: unknown): FlagType | undefined {
  if (typeof value === 'boolean' || typeof value === 'string' || typeof value === 'number') return typeof value as FlagType;
  return value !== null && typeof value === 'object' ? 'object' : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function show(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

/** Where JSON.parse stopped, as line:column (its message gives only an offset). */
function jsonErrorWhere(text: string, err: Error): string {
  const offset = /position (\d+)/.exec(err.message);
  if (!offset) return err.message;
  const before = text.slice(0, Number(offset[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${err.message.replace(/ in JSON at position \d+.*$/, '')} at line ${line}, column ${column}`;
}
