import { chmodSync, existsSync, lstatSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Where ccom keeps an app's state, whatever the target: `<app>/.ccom/` holds the history
 * (SQLite) and the immutable releases assembled before they ship. Targets keep their own
 * files (the local agent's socket, pid and logs) under it too, in their own modules.
 */
export const STATE_DIR_NAME = '.ccom';

export function appStateDir(appDir: string): string {
  return join(resolve(appDir), STATE_DIR_NAME);
}

export function releasesDir(appDir: string): string {
  return join(appStateDir(appDir), 'releases');
}

/** The app was deployed at least once from here (it has history). */
export function wasDeployed(appDir: string): boolean {
  return existsSync(appStateDir(appDir));
}

/** Only the app's user may enter `.ccom/`: it holds the control socket, history and logs. */
export const STATE_DIR_MODE = 0o700;

/**
 * Tightens an existing `.ccom/` that others can read or enter (made by hand, or by an older
 * ccom, at 0755) to 0700. Returns the mode it had when it changed it, so the caller can say so
 * once: afterwards it is 0700 and nothing is said again.
 */
export function tightenStateDir(appDir: string): number | undefined {
  const dir = appStateDir(appDir);
  let mode: number;
  try {
    const stat = lstatSync(dir);
    // A symlink's target is not ours to chmod; not a directory is for the commands to report.
    if (!stat.isDirectory()) return undefined;
    mode = stat.mode & 0o777;
  } catch {
    return undefined; // not created yet: it will be created 0700
  }
  if ((mode & 0o077) === 0) return undefined;
  chmodSync(dir, STATE_DIR_MODE);
  return mode;
}
