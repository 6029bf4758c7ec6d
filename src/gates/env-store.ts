import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { appStateDir } from '../app-state.js';
import { ensureAppStateDir } from '../app-state-owner.js';
import { readRegularFile } from './regular-file.js';

/**
 * Variables set with `ccom env set`: `env-set.json` in the app's state dir, mode 0600 in a 0700
 * directory, written whole and renamed. They join the env file's variables at the next deploy
 * or `ccom restart` (and win over them: they are the latest deliberate setting), and are
 * secrets like them: redacted from output, never in history, logs, `--json` or webhooks.
 */
const FILE = 'env-set.json';

/** Names an instance may get: PORT and CCOM_* are ccom's own. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function envStoreFile(appDir: string): string {
  return join(appStateDir(appDir), FILE);
}

/** The stored variables, or none (never set, no config to find the state dir by, unreadable). */
export function readStoredEnv(appDir: string): Record<string, string> {
  let text: string;
  try {
    text = readRegularFile(envStoreFile(appDir));
  } catch {
    return {};
  }
  try {
    const parsed = JSON.parse(text) as { vars?: unknown };
    const vars = parsed.vars && typeof parsed.vars === 'object' ? (parsed.vars as Record<string, unknown>) : {};
    return Object.fromEntries(Object.entries(vars).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    return {};
  }
}

/** Why a name cannot be set, or undefined when it can. */
export function badEnvName(name: string): string | undefined {
  if (!NAME.test(name)) return `${JSON.stringify(name)}: not a variable name (letters, digits and _, not starting with a digit)`;
  if (name === 'PORT' || name.startsWith('CCOM_')) return `${name}: ccom sets it itself for every instance`;
  return undefined;
}

export function setStoredEnv(appDir: string, name: string, value: string): void {
  writeStore(appDir, { ...readStoredEnv(appDir), [name]: value });
}

/** Returns false when the name was not set. */
export function unsetStoredEnv(appDir: string, name: string): boolean {
  const vars = readStoredEnv(appDir);
  if (!(name in vars)) return false;
  delete vars[name];
  writeStore(appDir, vars);
  return true;
}

function writeStore(appDir: string, vars: Record<string, string>): void {
  ensureAppStateDir(appDir);
  const file = envStoreFile(appDir);
  if (Object.keys(vars).length === 0) {
    rmSync(file, { force: true });
    return;
  }
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify({ vars })}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
