import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';

/** Something to recreate in a release; `rel` is relative to the app dir, with `/` separators. */
export interface TreeItem {
  rel: string;
  kind: 'dir' | 'file' | 'symlink';
  /** Permission bits; only used for directories. */
  mode: number;
}

/**
 * Normalizes a config path that must stay inside the app dir (`dist`, `./data/`) to `dist`, `data`.
 * Absolute paths, `..` escapes and the app dir itself are user errors.
 */
export function insideAppDir(p: string, what: string): string {
  const normalized = path.posix.normalize(p.split(path.sep).join('/')).replace(/\/+$/, '');
  if (path.posix.isAbsolute(normalized) || normalized === '..' || normalized.startsWith('../')) {
    throw new UserError(`${what} "${p}" points outside the app directory`, {
      fix: `use a path relative to the app directory, without "..", e.g. "data"`,
    });
  }
  if (normalized === '.' || normalized === '') {
    throw new UserError(`${what} "${p}" is the app directory itself`, {
      fix: 'name a file or directory inside the app directory, e.g. "data"',
    });
  }
  return normalized;
}

/**
 * Refuses a listed path (artifact or shared) whose real location is outside the app dir: a
 * symlink on the way (`etclink/passwd`, etclink → /etc) would copy /etc/passwd into the release,
 * or link a shared path to a system directory the instances then write to. A path not created
 * yet is judged by its nearest existing parent, which is what mkdir would follow.
 */
export async function assertResolvesInside(appDir: string, rel: string, what: string): Promise<void> {
  const root = await fs.realpath(appDir);
  let probe = path.join(appDir, rel);
  let real: string | undefined;
  while (real === undefined) {
    try {
      real = await fs.realpath(probe);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || probe === appDir) throw err;
      probe = path.dirname(probe);
    }
  }
  if (real === root || real.startsWith(`${root}${path.sep}`)) return;
  const shown = path.relative(appDir, probe) || rel;
  throw new UserError(`${what} "${rel}" resolves outside the app directory: ${shown} → ${real}`, {
    fix: `ccom ships only files inside ${appDir}: copy what the release needs into it (or make the build write it there), or remove the symlink from the path`,
  });
}

function isExcluded(rel: string, excluded: readonly string[]): boolean {
  return excluded.some((ex) => rel === ex || rel.startsWith(`${ex}/`));
}

function kindOf(stat: { isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean }): TreeItem['kind'] | undefined {
  if (stat.isSymbolicLink()) return 'symlink';
  if (stat.isDirectory()) return 'dir';
  if (stat.isFile()) return 'file';
  return undefined; // sockets, fifos, devices: not part of an app
}

/** Everything under `appDir/rel` (not `rel` itself), parents before children, skipping `excluded`. */
export async function collectTree(appDir: string, rel: string, excluded: readonly string[]): Promise<TreeItem[]> {
  const items: TreeItem[] = [];
  const entries = await fs.readdir(path.join(appDir, rel), { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
    const kind = kindOf(entry);
    if (!kind || isExcluded(childRel, excluded)) continue;
    // Only directory modes are applied by hand; copies and links keep a file's mode themselves.
    const mode = kind === 'dir' ? (await fs.lstat(path.join(appDir, childRel))).mode & 0o7777 : 0;
    items.push({ rel: childRel, kind, mode });
    if (kind === 'dir') items.push(...(await collectTree(appDir, childRel, excluded)));
  }
  return items;
}

/** The listed artifacts (and the directories leading to them), each once, parents first. */
export async function collectArtifacts(appDir: string, artifacts: string[], excluded: readonly string[]): Promise<TreeItem[]> {
  const byRel = new Map<string, TreeItem>();
  for (const artifact of artifacts) {
    const rel = insideAppDir(artifact, 'build artifact');
    await assertResolvesInside(appDir, rel, 'build artifact');
    const stat = await fs.lstat(path.join(appDir, rel)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') throw err;
      throw new UserError(`build artifact ${artifact} is missing after the build`, {
        fix: `make the build command produce ${artifact} in ${appDir}, or remove it from build.artifacts`,
      });
    });
    // A shared path wins over an artifact: it is linked, never copied.
    if (isExcluded(rel, excluded)) continue;
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (byRel.has(parent)) continue;
      const parentStat = await fs.stat(path.join(appDir, parent));
      byRel.set(parent, { rel: parent, kind: 'dir', mode: parentStat.mode & 0o7777 });
    }
    const kind = kindOf(stat);
    if (!kind) continue;
    byRel.set(rel, { rel, kind, mode: stat.mode & 0o7777 });
    if (kind === 'dir') for (const item of await collectTree(appDir, rel, excluded)) byRel.set(item.rel, item);
  }
  // Sorting by path puts every directory before its contents.
  return [...byRel.values()].sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}
