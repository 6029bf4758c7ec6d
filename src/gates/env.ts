import path from 'node:path';
import { parseEnv } from 'node:util';
import { UserError } from '../errors.js';
import { protectSecrets, secretValues } from './redact.js';
import { NotRegularFile, readRegularFile } from './regular-file.js';
import { readStoredEnv } from './env-store.js';

/** The variables of an app's env file and the required names that are still missing. */
export interface LoadedEnv {
  /** The file's variables (not merged with the process environment). */
  vars: Record<string, string>;
  /** Required names set (non-empty) neither in the file nor in the process environment. */
  missing: string[];
  /** Absolute path of the file read, when one is configured. */
  file?: string;
  /** Names in `vars` set with `ccom env set` (they win over the file's). */
  stored?: string[];
}

/**
 * Reads `env.file` (dotenv syntax, parsed by Node's `util.parseEnv`) from the app dir and checks
 * `env.required`. Values never appear in any message: only names and the file path do. The
 * values read (the file's and the required ones) are secrets from here on: command output this
 * process shows or stores is redacted with them.
 */
export function loadEnvFile(
  appDir: string,
  env: { file?: string; required: string[]; values?: Record<string, string> },
  processEnv: NodeJS.ProcessEnv = process.env,
): LoadedEnv {
  const vars: Record<string, string> = {};
  let file: string | undefined;
  if (env.file !== undefined) {
    file = path.resolve(appDir, env.file);
    for (const [name, value] of Object.entries(parseEnv(readEnvFile(env.file, file)))) {
      if (value !== undefined) vars[name] = value;
    }
  }
  const stored = readStoredEnv(appDir);
  Object.assign(vars, stored);
  protectSecrets(secretValues(vars, Object.keys(vars)));
  protectSecrets(secretValues(processEnv, env.required));
  // An empty value counts as missing: a required variable set to "" is almost always a mistake.
  const isSet = (name: string): boolean => (vars[name] ?? env.values?.[name] ?? processEnv[name] ?? '') !== '';
  const missing = env.required.filter((name) => !isSet(name));
  const names = Object.keys(stored);
  return { vars, missing, ...(file === undefined ? {} : { file }), ...(names.length ? { stored: names } : {}) };
}

/**
 * Learns the app's secrets before any command runs (gates run before the env step), so their
 * output is redacted too. A file that cannot be read is reported by the env step, not here.
 */
export function protectAppSecrets(appDir: string, env: { file?: string; required: string[] }): void {
  try {
    loadEnvFile(appDir, env);
  } catch {
    protectSecrets(secretValues(process.env, env.required));
  }
}

function readEnvFile(configured: string, file: string): string {
  try {
    return readRegularFile(file);
  } catch (err) {
    if (err instanceof NotRegularFile) {
      throw new UserError(`env file ${configured} is ${err.kind}, not a regular file (looked at ${file})`, {
        fix: `make ${file} a regular file of KEY=value lines (ccom never reads env files from pipes or devices), or change env.file in ccom.yaml`,
      });
    }
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`;
    throw new UserError(`env file ${configured} ${why} (looked at ${file})`, {
      fix: `create ${configured} with KEY=value lines (keep it out of git), or remove env.file from ccom.yaml`,
    });
  }
}

/**
 * Variables of the deploying shell every instance gets, so `start` finds its tools and speaks
 * the user's locale and time zone. Nothing else of the shell reaches instances: a variable
 * exported once in some terminal must not silently configure production.
 */
const BASE_NAMES = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR'];

export function baseEnvironment(shell: NodeJS.ProcessEnv): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [name, value] of Object.entries(shell)) {
    if (value !== undefined && (BASE_NAMES.includes(name) || name.startsWith('LC_'))) base[name] = value;
  }
  return base;
}

/** The complete environment of a release's instances (ccom adds only PORT and CCOM_*). */
export interface InstanceEnvironment {
  env: Record<string, string>;
  /** Names whose values are secrets (the env file's and the required ones): redacted from output. */
  secretNames: string[];
}

/**
 * Computed by the deploying CLI and shipped with the release's spec. Precedence, lowest first:
 * `defaults` (ccom's production defaults, see release-spec.ts), the shell's base variables,
 * `env.values`, each `env.required` name the shell sets, then the env file. The file wins over
 * the shell for a name in both: it is the deliberate production setting, where a shell variable
 * may be a leftover export from local work; both win over `env.values`, which every machine
 * shares through ccom.yaml.
 */
export function instanceEnvironment(
  fileVars: Record<string, string>,
  required: string[],
  shell: NodeJS.ProcessEnv,
  layers: { values?: Record<string, string>; defaults?: Record<string, string> } = {},
): InstanceEnvironment {
  const fromShell: Record<string, string> = {};
  for (const name of required) {
    const value = shell[name];
    if (value !== undefined && value !== '') fromShell[name] = value;
  }
  return {
    env: { ...layers.defaults, ...baseEnvironment(shell), ...layers.values, ...fromShell, ...fileVars },
    // env.values are not secrets (they are in ccom.yaml and the history), unless also required.
    secretNames: [...new Set([...Object.keys(fileVars), ...required])],
  };
}
