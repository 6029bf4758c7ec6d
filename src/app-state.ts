import { chmodSync, existsSync, lstatSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { appsDir } from './ccom-home.js';
import { UserError } from './errors.js';
import { NotRegularFile, readRegularFile } from './gates/regular-file.js';

export { ccomHome, appsDir } from './ccom-home.js';

/**
 * Where ccom keeps an app's state, whatever the target: `$CCOM_HOME/apps/<app>/` holds the
 * history (SQLite), the immutable releases, logs and backups; targets keep their own files (the
 * local agent's socket, pid, guardian) there too. Nothing of it goes into the app's directory,
 * where the app's own tools (linters, type checkers, git) would see it.
 */

/** Where builds before the move kept the state: `<app>/.ccom/` (moved on the first command). */
export const LEGACY_STATE_DIR_NAME = '.ccom';
/**
 * Written into `<app>/.ccom/` by the command moving the state: the agent that the old agent
 * starts on hand-over gets neither `--state` nor the command's environment (CCOM_HOME), so it
 * reads where the state went from here.
 */
export const LEGACY_MOVED_TO_FILE = 'moved-to';

export function legacyMovedTo(appDir: string): string | undefined {
  try {
    return readFileSync(join(resolve(appDir), LEGACY_STATE_DIR_NAME, LEGACY_MOVED_TO_FILE), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The state directory of the app named `app` (the config's `app:`). */
export function stateDirOf(app: string): string {
  return join(appsDir(), app);
}

/** Config files in the order the loader looks for them (kept beside the cheap reader below). */
const CONFIG_FILES = ['ccom.yaml', 'ccom.yml', 'ccom.json'];
const NAME = /^[a-z0-9-]+$/;
/** A top-level `app: name` line, the way `init` writes it (quotes and a comment allowed). */
const YAML_APP_LINE = /^["']?app["']?[ \t]*:[ \t]*(["']?)([^"'\s#]+)\1[ \t]*(?:#.*)?$/m;

/**
 * The app's name from its config, without loading the whole config (status, down, the agent):
 * undefined when there is no config or no valid `app:` in it (the config loader explains).
 */
export function appNameOf(appDir: string): string | undefined {
  for (const file of CONFIG_FILES) {
    let text: string;
    try {
      // Never a blocking read: a FIFO named ccom.yaml is for the config loader to refuse.
      text = readRegularFile(join(appDir, file));
    } catch (err) {
      if (err instanceof NotRegularFile) return undefined;
      continue;
    }
    let name: unknown;
    if (file.endsWith('.json')) {
      try {
        name = (JSON.parse(text) as { app?: unknown } | null)?.app;
      } catch {
        return undefined;
      }
    } else {
      name = YAML_APP_LINE.exec(text)?.[2];
    }
    return typeof name === 'string' && NAME.test(name) ? name : undefined;
  }
  return undefined;
}

/** State dirs fixed for this process: the agent's `--state`, or what the CLI resolved. */
const pinned = new Map<string, string>();

/** Fixes the state dir of `appDir` for this process, whatever its config says later. */
export function pinStateDir(appDir: string, stateDir: string): void {
  pinned.set(resolve(appDir), resolve(stateDir));
}

/** The state directory of the app in `appDir`, keyed by the name in its config. */
export function appStateDir(appDir: string): string {
  const abs = resolve(appDir);
  const known = pinned.get(abs);
  if (known) return known;
  const name = appNameOf(abs);
  if (!name) {
    throw new UserError(`no ccom.yaml with a valid \`app:\` name in ${abs}, so ccom cannot tell which app's state to use`, {
      fix: 'run `ccom init` there, or pass the app directory with -C <path>',
    });
  }
  const dir = stateDirOf(name);
  pinned.set(abs, dir);
  return dir;
}

export function releasesDir(appDir: string): string {
  return join(appStateDir(appDir), 'releases');
}

/**
 * The app was deployed at least once (it has history). The history file, not the folder: `ccom
 * env set` before a first deploy creates the folder, and must not make `down` or `status` think
 * something was deployed.
 */
export function wasDeployed(appDir: string): boolean {
  try {
    return existsSync(join(appStateDir(appDir), 'state.db'));
  } catch {
    return false;
  }
}

/** Only the app's user may enter its state dir: it holds the control socket, history and logs. */
export const STATE_DIR_MODE = 0o700;

/**
 * Tightens an existing state dir that others can read or enter (made by hand, or by an older
 * ccom, at 0755) to 0700. Returns the mode it had when it changed it, so the caller can say so
 * once: afterwards it is 0700 and nothing is said again.
 */
export function tightenStateDir(appDir: string): number | undefined {
  let dir: string;
  let mode: number;
  try {
    dir = appStateDir(appDir);
    const stat = lstatSync(dir);
    // A symlink's target is not ours to chmod; not a directory is for the commands to report.
    if (!stat.isDirectory()) return undefined;
    mode = stat.mode & 0o777;
  } catch {
    return undefined; // no config, or not created yet: it will be created 0700
  }
  if ((mode & 0o077) === 0) return undefined;
  chmodSync(dir, STATE_DIR_MODE);
  return mode;
}
