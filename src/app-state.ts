import { existsSync } from 'node:fs';
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
