import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { UserError } from '../errors.js';

/** The variables of an app's env file and the required names that are still missing. */
export interface LoadedEnv {
  /** The file's variables (not merged with the process environment). */
  vars: Record<string, string>;
  /** Required names set (non-empty) neither in the file nor in the process environment. */
  missing: string[];
  /** Absolute path of the file read, when one is configured. */
  file?: string;
}

/**
 * Reads `env.file` (dotenv syntax, parsed by Node's `util.parseEnv`) from the app dir and checks
 * `env.required`. Values never appear in any message: only names and the file path do.
 */
export function loadEnvFile(
  appDir: string,
  env: { file?: string; required: string[] },
  processEnv: NodeJS.ProcessEnv = process.env,
): LoadedEnv {
  const vars: Record<string, string> = {};
  let file: string | undefined;
  if (env.file !== undefined) {
    file = path.resolve(appDir, env.file);
    let content: string;
    try {
      content = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? 'error'})`;
      throw new UserError(`env file ${env.file} ${why} (looked at ${file})`, {
        fix: `create ${env.file} with KEY=value lines (keep it out of git), or remove env.file from ccom.yaml`,
      });
    }
    for (const [name, value] of Object.entries(parseEnv(content))) {
      if (value !== undefined) vars[name] = value;
    }
  }
  // An empty value counts as missing: a required variable set to "" is almost always a mistake.
  const isSet = (name: string): boolean => (vars[name] ?? processEnv[name] ?? '') !== '';
  const missing = env.required.filter((name) => !isSet(name));
  return file === undefined ? { vars, missing } : { vars, missing, file };
}
