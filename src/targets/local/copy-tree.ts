import { copyFileSync, linkSync, lstatSync, mkdirSync, readdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/** Link errors that mean "copy instead": another file system, or a file that takes no more links. */
const CANNOT_LINK = new Set(['EXDEV', 'EMLINK', 'EPERM']);

/**
 * Copies `from` into `to` (which must not exist) the way `cp -al` would when both are on one file
 * system: files are hard-linked, so a log an instance still appends to stays one file under both
 * names; elsewhere (EXDEV) they are copied. Directory modes and symlinks are kept as they are.
 * Returns whether every file was linked.
 */
export function linkOrCopyTree(from: string, to: string): boolean {
  const state = { linked: true };
  copyEntry(from, to, state);
  return state.linked;
}

function copyEntry(from: string, to: string, state: { linked: boolean }): void {
  const stat = lstatSync(from);
  if (stat.isSymbolicLink()) {
    symlinkSync(readlinkSync(from), to);
  } else if (stat.isDirectory()) {
    mkdirSync(to, { mode: stat.mode & 0o7777 });
    for (const name of readdirSync(from)) copyEntry(join(from, name), join(to, name), state);
  } else if (stat.isFile()) {
    if (state.linked) {
      try {
        linkSync(from, to);
        return;
      } catch (err) {
        if (!CANNOT_LINK.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
        state.linked = false;
      }
    }
    copyFileSync(from, to); // keeps the permission bits
  }
  // Sockets and fifos (an agent's control socket) are not state: skipped.
}
