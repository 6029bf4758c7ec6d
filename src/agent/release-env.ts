import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { appStateDir } from '../app-state.js';
import { readRegularFile } from '../gates/regular-file.js';

/** The environment a release's instances run with, as its deploy computed it. */
export interface SavedEnv {
  release: string;
  /** The release's directory: once it is pruned, its environment is deleted too. */
  dir: string;
  env: Record<string, string>;
  secretNames: string[];
}

/** Release ids are `YYYYMMDD-HHMMSS-xxxx`; anything else is refused before it becomes a path. */
const RELEASE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * `env/<release>.json` in the app's state dir, one file per release, mode 0600 in a 0700 directory: secrets live
 * only here (and in the instances' own environment), never in agent-state.json, the SQLite
 * history, logs, `--json` or webhooks. Written by the agent when a release's instances first
 * start; read by the agent after a restart or a reboot, and by `ccom rollback`.
 */
export function releaseEnvDir(appDir: string): string {
  return join(appStateDir(appDir), 'env');
}

export function saveReleaseEnv(appDir: string, saved: SavedEnv): void {
  const dir = releaseEnvDir(appDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir keeps the mode of a directory that already exists: make sure it is ours alone.
  chmodSync(dir, 0o700);
  const file = fileOf(dir, saved.release);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(saved)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  forgetPrunedReleases(dir);
}

/** The saved environment of a release, or undefined when none was saved (an older ccom started it). */
export function loadReleaseEnv(appDir: string, release: string): SavedEnv | undefined {
  let text: string;
  try {
    text = readRegularFile(fileOf(releaseEnvDir(appDir), release));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const saved = JSON.parse(text) as SavedEnv;
  if (saved.release !== release || typeof saved.env !== 'object' || saved.env === null) {
    throw new Error(`${fileOf(releaseEnvDir(appDir), release)} does not hold the environment of ${release}`);
  }
  return { ...saved, secretNames: saved.secretNames ?? [] };
}

function fileOf(dir: string, release: string): string {
  if (!RELEASE_ID.test(release)) throw new Error(`not a release id: ${JSON.stringify(release)}`);
  return join(dir, `${release}.json`);
}

/** Secrets of releases whose directory is gone can never be used again: they are deleted. */
function forgetPrunedReleases(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json')) continue;
    const file = join(dir, name);
    try {
      const saved = JSON.parse(readRegularFile(file)) as Partial<SavedEnv>;
      if (typeof saved.dir === 'string' && !existsSync(saved.dir)) rmSync(file, { force: true });
    } catch {
      /* unreadable: left for a person to look at, never read as an environment */
    }
  }
}
