import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { UserError } from '../errors.js';
import { formatIssues } from './format-errors.js';
import { jsonLocator, nowhere, yamlLocator, type Locate } from './positions.js';
import { chooseTarget } from '../targets/choose.js';
import { configSchema } from './schema.js';
import type { Config, LoadedConfig } from './types.js';

/** Config file names, in the order `loadConfig` looks for them. */
export const CONFIG_FILES = ['ccom.yaml', 'ccom.yml', 'ccom.json'] as const;

/**
 * Validates a raw (already parsed) config document and resolves defaults.
 * Throws one UserError listing every problem, one per line, each naming the key path.
 * `file` labels the messages (its base name is used); `locate` adds each problem's line and column.
 */
export function parseConfig(raw: unknown, file: string, locate: Locate = nowhere): Config {
  const label = path.basename(file);
  if (raw === null || raw === undefined) {
    throw new UserError(`${label} is empty`, { fix: `add at least \`app:\` and \`start:\` to ${label}, or run \`ccom init\`` });
  }
  const result = configSchema.safeParse(dropEmptyValues(raw));
  if (result.success) return result.data;
  const lines = formatIssues(result.error.issues, raw, label, configSchema, locate);
  throw new UserError(lines.join('\n'), { fix: `edit ${label} to fix ${lines.length === 1 ? 'the problem' : `the ${lines.length} problems`} above` });
}

/** Parses config text (YAML, or JSON when the file ends in .json) and validates it. */
export function parseConfigText(text: string, file: string): Config {
  const label = path.basename(file);
  const body = text.replace(/^\uFEFF/, '');
  const { raw, locate } = file.endsWith('.json') ? { raw: parseJson(body, label), locate: jsonLocator(body) } : parseYaml(body, label);
  assertShallow(raw, label);
  return parseConfig(raw, label, locate);
}

/**
 * Finds and loads ccom.yaml (then ccom.yml, then ccom.json) in `appDir`.
 * Missing or invalid config is a UserError (exit 2: blocked, nothing changed).
 */
export function loadConfig(appDir: string): LoadedConfig {
  const dir = path.resolve(appDir);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new UserError(`app directory ${dir} does not exist`, { fix: 'pass the app directory with -C <path>' });
  }
  const found = CONFIG_FILES.filter((f) => fs.existsSync(path.join(dir, f)));
  const name = found[0];
  if (name === undefined) {
    throw new UserError(`no ccom.yaml in ${dir}`, { fix: 'run `ccom init` to create one' });
  }
  // Reading one and ignoring the other would deploy a config the user may not be editing.
  if (found.length > 1) {
    throw new UserError(`${found.join(' and ')} are both in ${dir}: ccom cannot tell which one you mean`, {
      fix: `keep one of them and delete (or rename) the other${found.length > 2 ? 's' : ''}`,
    });
  }
  const file = path.join(dir, name);
  const config = parseConfigText(readRegularFile(file), file);
  // Refused at load, so every command (not only deploy) says so before anything runs.
  chooseTarget(config, name);
  return { config, file, appDir: dir };
}

/**
 * Reads a file that must be a regular file. Opened non-blocking, so a FIFO in its place cannot
 * hang the command before fstat says what it is (a directory or device is refused the same way).
 */
function readRegularFile(file: string): string {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    if (!fs.fstatSync(fd).isFile()) {
      throw new UserError(`${file} is not a regular file`, { fix: `replace ${file} with a plain file holding the config` });
    }
    return fs.readFileSync(fd, 'utf8');
  } catch (err) {
    if (err instanceof UserError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw new UserError(`${file} is a directory, not a config file`, { fix: `replace ${file} with a plain file holding the config` });
    throw new UserError(`cannot read ${file}: ${code ?? String(err)}`, { fix: `check the permissions of ${file}`, cause: err });
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function parseYaml(text: string, label: string): { raw: unknown; locate: Locate } {
  const counter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: true, lineCounter: counter });
  // yaml's parser recurses per level and reports the overflow as a syntax error at the deepest one.
  if (doc.errors.some((e) => e.message.includes('Maximum call stack'))) throw tooDeep(label);
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      // yaml appends " at line L, column C:" and a code excerpt; keep the sentence, show the excerpt as detail.
      const reason = e.message.split(/ at line \d+, column \d+/)[0] ?? e.message;
      return `${label}${pos ? `:${pos.line}:${pos.col}` : ''}: ${reason}`;
    });
    const excerpt = doc.errors[0]?.message.split('\n').slice(1).join('\n').replace(/^\n+|\n+$/g, '');
    throw new UserError(lines.join('\n'), { fix: `fix the YAML syntax in ${label} (indent with spaces, quote values containing ": " or "#")`, detail: excerpt || undefined });
  }
  try {
    // Each alias counted once per use: a few lines of nested aliases (billion laughs) expand to gigabytes.
    return { raw: doc.toJS({ maxAliasCount: 100 }), locate: yamlLocator(doc, counter) };
  } catch (err) {
    if (!(err instanceof ReferenceError || err instanceof RangeError)) throw err;
    throw new UserError(`${label}: aliases expand to too much data (${err.message.split('\n')[0]})`, {
      fix: `write the values out in ${label}, or use fewer \`*alias\` references`,
    });
  }
}

/** A config is a few levels deep; thousands of levels are an attack on the validator's recursion. */
const MAX_DEPTH = 32;

function tooDeep(label: string): UserError {
  return new UserError(`${label} nests lists or mappings more than ${MAX_DEPTH} levels deep`, { fix: `flatten ${label}: no ccom key is nested that deep` });
}

function assertShallow(value: unknown, label: string): void {
  const pending: Array<[unknown, number]> = [[value, 1]];
  while (pending.length > 0) {
    const [item, depth] = pending.pop() as [unknown, number];
    if (item === null || typeof item !== 'object') continue;
    if (depth > MAX_DEPTH) throw tooDeep(label);
    for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
}

function parseJson(text: string, label: string): unknown {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const at = /at position (\d+)/.exec(message);
    // V8 reports "at position N"; an unexpected end is at the end of the text.
    const offset = at?.[1] !== undefined ? Number(at[1]) : /end of JSON input/.test(message) ? text.length : undefined;
    const reason = message.replace(/\s*(in JSON )?at position \d+.*$/, '').replace(/, "[\s\S]*" is not valid JSON$/, '');
    throw new UserError(`${label}${offset === undefined ? '' : lineColumn(text, offset)}: ${reason}`, { fix: `fix the JSON syntax in ${label}` });
  }
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return `:${line}:${offset - before.lastIndexOf('\n')}`;
}

/**
 * `health:` with nothing under it is YAML null; treat an empty value in a mapping as absent so
 * defaults apply, while the raw document still shows the user what they wrote in messages.
 */
function dropEmptyValues(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropEmptyValues);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // defineProperty, so a `__proto__` key stays an (unknown) key instead of replacing the prototype.
    if (v !== null) Object.defineProperty(out, k, { value: dropEmptyValues(v), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
