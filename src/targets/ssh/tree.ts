import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { manifestDigest, type ManifestEntry } from '../../gates/manifest.js';
import { mapLimit } from '../../gates/map-limit.js';

/**
 * What ships: a tree's directories (with modes), regular files (with mode, size and SHA-256, as
 * the release manifest has them) and symlinks (kept as links, never followed). Paths are
 * relative, with `/`, sorted as the manifest sorts them.
 */
export interface ShipTree {
  /** Where the files are read from on this machine. */
  root: string;
  /** The root directory's own mode. */
  mode: number;
  dirs: { path: string; mode: number }[];
  files: ManifestEntry[];
  links: { path: string; target: string }[];
  /** manifestDigest(files): the host recomputes it and must get the same. */
  digest: string;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const byPath = <T extends { path: string }>(a: T, b: T) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

async function walk(root: string, rel: string, tree: Pick<ShipTree, 'dirs' | 'links'>, files: string[], skip: (rel: string, isDir: boolean) => boolean): Promise<void> {
  for (const entry of await fs.readdir(path.join(root, rel), { withFileTypes: true })) {
    const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
    if (skip(child, entry.isDirectory())) continue;
    if (entry.isDirectory()) {
      tree.dirs.push({ path: child, mode: (await fs.lstat(path.join(root, child))).mode & 0o7777 });
      await walk(root, child, tree, files, skip);
    } else if (entry.isSymbolicLink()) {
      tree.links.push({ path: child, target: await fs.readlink(path.join(root, child)) });
    } else if (entry.isFile()) files.push(child);
    // Sockets and fifos are no part of a tree.
  }
}

/**
 * The tree under `root`. Files are hashed unless `known` (a manifest made when the tree was built)
 * gives their entries; a file missing from it, or one it lists missing here, means the tree
 * changed since, and is reported by `onStale`'s error.
 */
export async function describeTree(
  root: string,
  options: { known?: readonly ManifestEntry[]; skip?: (rel: string, isDir: boolean) => boolean; onStale?: (rel: string) => Error } = {},
): Promise<ShipTree> {
  const tree: ShipTree = { root, mode: (await fs.lstat(root)).mode & 0o7777, dirs: [], files: [], links: [], digest: '' };
  const found: string[] = [];
  await walk(root, '', tree, found, options.skip ?? (() => false));
  if (options.known) {
    const known = new Map(options.known.map((e) => [e.path, e]));
    // No stat per file: a file that is sent is sent by its manifest size, exactly (or the ship
    // fails naming it), and one that is not sent is the host's own checked copy.
    for (const rel of found) {
      const entry = known.get(rel);
      if (!entry) throw options.onStale?.(rel) ?? new Error(`${rel} is not in the manifest`);
      tree.files.push(entry);
    }
    if (found.length !== known.size) {
      const missing = options.known.find((e) => !found.includes(e.path));
      if (missing) throw options.onStale?.(missing.path) ?? new Error(`${missing.path} is missing`);
    }
  } else {
    tree.files = await mapLimit(found, 8, async (rel): Promise<ManifestEntry> => {
      const file = path.join(root, rel);
      const stat = await fs.lstat(file);
      return { path: rel, size: stat.size, mode: stat.mode & 0o7777, sha256: await sha256Of(file) };
    });
  }
  tree.files.sort(byPath);
  tree.dirs.sort(byPath);
  tree.links.sort(byPath);
  tree.digest = manifestDigest(tree.files);
  return tree;
}
