import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * Bytes available to this (unprivileged) user on the file system holding `dir`. A `dir` that does
 * not exist yet (e.g. a releases folder before the first deploy) is measured at its nearest existing parent.
 */
export async function freeBytes(dir: string): Promise<number> {
  let current = path.resolve(dir);
  for (;;) {
    try {
      const stats = await fs.statfs(current);
      return Number(stats.bavail) * Number(stats.bsize);
    } catch (err) {
      const parent = path.dirname(current);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === current) throw err;
      current = parent;
    }
  }
}
