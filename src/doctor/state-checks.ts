import { accessSync, closeSync, constants, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { appStateDir } from '../app-state.js';
import type { ReleaseRow } from '../store/types.js';
import { fail, pass, warn, type Check } from './types.js';

/** SQLite's files: the database and, in WAL mode, its log and shared index. */
const HISTORY_FILES = ['state.db', 'state.db-wal', 'state.db-shm'];

/**
 * The history must be writable, or the next deploy fails after it started ("Cannot open state
 * database"). Opened for writing for real: as root, permission bits say nothing, while a
 * read-only mount (EROFS) or an immutable file (EPERM) still refuse.
 */
export function historyCheck(appDir: string): Check {
  const name = 'history';
  const dir = appStateDir(appDir);
  if (!existsSync(join(dir, 'state.db'))) return pass(name, 'no history yet: the first deploy creates it');
  for (const file of HISTORY_FILES.map((f) => join(dir, f)).filter((f) => existsSync(f))) {
    try {
      closeSync(openSync(file, constants.O_WRONLY));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      return fail(name, `${file} cannot be written (${code}): deploys, rollbacks and \`down\` could not record what they do`, `make ${file} writable by this user (check its mode, \`lsattr\` for the immutable flag, and that the disk is not mounted read-only)`);
    }
  }
  try {
    // SQLite creates the -wal and -shm files beside the database when they are missing.
    accessSync(dir, constants.W_OK);
  } catch (err) {
    return fail(name, `${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? String(err)})`, `make ${dir} writable by this user`);
  }
  return pass(name, `${join(dir, 'state.db')} is writable`);
}

/**
 * The live release's directory is what an instance that dies is restarted from: gone (pruned
 * by hand to free disk), the next restart fails and the app loses capacity, then goes down.
 */
export function liveReleaseCheck(live: ReleaseRow | undefined): Check {
  const name = 'live-release';
  if (!live) return warn(name, 'no live release', 'run `ccom deploy`');
  if (!existsSync(live.dir)) {
    return fail(name, `the live release ${live.id} has no directory any more (${live.dir} is gone): an instance that stops cannot be started again`, 'run `ccom deploy` to build and ship a fresh release (or `ccom rollback` to one still on disk); prune old releases, never the live one');
  }
  return pass(name, `release ${live.id} is on disk at ${live.dir}`);
}
