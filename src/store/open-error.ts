import { accessSync, constants, statfsSync } from 'node:fs';
import { UserError, messageOf } from '../errors.js';

/** Below this much free space SQLite cannot open a WAL database (it writes -wal and -shm). */
const NEARLY_FULL_BYTES = 1024 * 1024;

/**
 * Why the state database could not be opened, told truthfully: a full disk, a quota, a
 * read-only file system or missing permissions are not corruption, and moving the state aside
 * (which forgets the history) is advised only when SQLite itself says the file is damaged.
 */
export function stateOpenError(err: unknown, file: string, stateDir: string): UserError {
  const code = String((err as NodeJS.ErrnoException).code ?? '');
  const cause = causeOf(code, stateDir);
  const what = `Cannot open ccom's state database ${file}`;
  if (cause) return new UserError(`${what}: ${cause[0]} (${messageOf(err)}).`, { fix: cause[1], cause: err });
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
    return new UserError(`${what}: the file is damaged (${messageOf(err)}).`, {
      fix: `Move ${stateDir} aside and run the command again (this forgets the app's history).`,
      cause: err,
    });
  }
  return new UserError(`${what}: ${messageOf(err)}.`, { fix: `Check that this user can write ${stateDir} and that its disk has free space.`, cause: err });
}

function causeOf(code: string, stateDir: string): [string, string] | undefined {
  const full: [string, string] = [
    'the disk is full; nothing is corrupt',
    `Free disk space on the file system of ${stateDir} (old releases are in ${stateDir}/releases/, logs in ${stateDir}/logs/), then run the command again.`,
  ];
  if (code === 'ENOSPC' || code === 'SQLITE_FULL') return full;
  if (code === 'EDQUOT') return ['the disk quota is exceeded; nothing is corrupt', 'Free space within your quota, then run the command again.'];
  // SQLite reports a full disk or a read-only mount as a generic I/O or "cannot open" error:
  // the file system is asked directly.
  if (freeBytes(stateDir) < NEARLY_FULL_BYTES) return full;
  const access = accessError(stateDir);
  if (code === 'EROFS' || access === 'EROFS') return ['the file system is read-only; nothing is corrupt', `Remount the file system of ${stateDir} read-write, or run ccom from a writable copy of the app.`];
  if (code === 'EACCES' || code === 'EPERM' || access === 'EACCES') {
    return ['permission denied; nothing is corrupt', `Run ccom as the user who owns ${stateDir}, or give that user write access to it.`];
  }
  return undefined;
}

function freeBytes(dir: string): number {
  try {
    const fs = statfsSync(dir);
    return fs.bavail * fs.bsize;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

function accessError(dir: string): string | undefined {
  try {
    accessSync(dir, constants.W_OK);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code;
  }
}
