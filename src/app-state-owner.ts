import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { appNameOf, appStateDir } from './app-state.js';
import { UserError } from './errors.js';

/**
 * State is keyed by the app's name, so two directories whose configs say the same `app:` would
 * share (and wreck) one history and one agent. The state dir records the directory it belongs
 * to in this file; another directory claiming the name is refused.
 */
const APP_DIR_FILE = 'app-dir';

function recordedAppDir(stateDir: string): string | undefined {
  try {
    return readFileSync(join(stateDir, APP_DIR_FILE), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function record(stateDir: string, appDir: string): void {
  const file = join(stateDir, APP_DIR_FILE);
  writeFileSync(`${file}.${process.pid}`, `${appDir}\n`, { mode: 0o600 });
  renameSync(`${file}.${process.pid}`, file);
}

/** Creates the app's state dir (owner-only: it holds the control socket and history) and records whose it is. */
export function ensureAppStateDir(appDir: string): string {
  const abs = resolve(appDir);
  const dir = appStateDir(abs);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (recordedAppDir(dir) !== abs) record(dir, abs);
  return dir;
}

/**
 * Refuses (exit 2) a directory whose `app:` name belongs to another directory that still claims
 * it. When that directory is gone, or its config names another app now, this one takes the state
 * over: returns the line that says so.
 */
export function claimAppState(appDir: string): string | undefined {
  const abs = resolve(appDir);
  const name = appNameOf(abs);
  if (!name) return undefined;
  const dir = appStateDir(abs);
  const recorded = recordedAppDir(dir);
  if (!recorded || recorded === abs) return undefined;
  const stillThere = existsSync(recorded);
  if (stillThere && appNameOf(recorded) === name) {
    throw new UserError(`app "${name}" is already deployed from ${recorded} (its state is in ${dir}), and ${abs} claims the same name`, {
      fix: `give one of them another name (\`app:\` in ${abs}'s or ${recorded}'s ccom.yaml); if ${abs} replaces ${recorded}, run \`ccom down -C ${recorded}\`, remove ${recorded} (or its ccom.yaml), then run the command again`,
    });
  }
  record(dir, abs);
  return `app "${name}" was deployed from ${recorded}, which ${stillThere ? 'no longer names it in its config' : 'no longer exists'}: ${abs} takes its state (${dir}) over`;
}
