import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { mapLimit } from './map-limit.js';

/** One regular file of a release. `path` is relative to the release root, with `/` separators. */
export interface ManifestEntry {
  path: string;
  size: number;
  /** Permission bits (`mode & 0o7777`). */
  mode: number;
  /** Hex SHA-256 of the content. */
  sha256: string;
}

/** The JSON document written next to a release directory. */
export interface ManifestFile {
  digest: string;
  files: ManifestEntry[];
}

const HASH_CONCURRENCY = 8;
/** Small files are read in one go; streaming only pays off for big ones. */
const STREAM_THRESHOLD = 1024 * 1024;

/** Where the manifest of a release lives: beside it, so the release holds exactly the app's files. */
export function manifestPathFor(releaseDir: string): string {
  const resolved = path.resolve(releaseDir);
  return path.join(path.dirname(resolved), `${path.basename(resolved)}.manifest.json`);
}

async function hashFile(file: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  if (size < STREAM_THRESHOLD) return hash.update(await fs.readFile(file)).digest('hex');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Regular files under `root` (symlinks are not followed, nor listed), as relative posix paths. */
async function listRegularFiles(root: string, rel = ''): Promise<string[]> {
  const found: string[] = [];
  const entries = await fs.readdir(path.join(root, rel), { withFileTypes: true });
  for (const entry of entries) {
    const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory()) found.push(...(await listRegularFiles(root, child)));
    else if (entry.isFile()) found.push(child);
  }
  return found;
}

/** Hashes every regular file of `root`, sorted by path. */
export async function buildManifest(root: string): Promise<ManifestEntry[]> {
  const files = await listRegularFiles(root);
  const entries = await mapLimit(files, HASH_CONCURRENCY, async (rel): Promise<ManifestEntry> => {
    const abs = path.join(root, rel);
    const stat = await fs.lstat(abs);
    return { path: rel, size: stat.size, mode: stat.mode & 0o7777, sha256: await hashFile(abs, stat.size) };
  });
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** `sha256:` + SHA-256 over `"<sha256>  <path>\n"` lines (the `sha256sum` format), in path order. */
export function manifestDigest(entries: readonly ManifestEntry[]): string {
  const hash = createHash('sha256');
  for (const entry of entries) hash.update(`${entry.sha256}  ${entry.path}\n`);
  return `sha256:${hash.digest('hex')}`;
}

/** Re-hashes a release against its manifest and lists changed, missing and extra files. */
export async function verifyRelease(releaseDir: string): Promise<{ ok: boolean; problems: string[] }> {
  const manifestFile = manifestPathFor(releaseDir);
  let manifest: ManifestFile;
  try {
    manifest = JSON.parse(await fs.readFile(manifestFile, 'utf8')) as ManifestFile;
  } catch (err) {
    return { ok: false, problems: [`manifest ${manifestFile} is unreadable: ${(err as Error).message}`] };
  }
  let actual: ManifestEntry[];
  try {
    actual = await buildManifest(releaseDir);
  } catch (err) {
    return { ok: false, problems: [`release ${releaseDir} is unreadable: ${(err as Error).message}`] };
  }
  const actualByPath = new Map(actual.map((entry) => [entry.path, entry]));
  const problems: string[] = [];
  for (const expected of manifest.files) {
    const found = actualByPath.get(expected.path);
    actualByPath.delete(expected.path);
    if (!found) problems.push(`missing: ${expected.path}`);
    else if (found.sha256 !== expected.sha256 || found.size !== expected.size) problems.push(`changed: ${expected.path}`);
    else if (found.mode !== expected.mode) {
      problems.push(`mode changed: ${expected.path} (${expected.mode.toString(8)} -> ${found.mode.toString(8)})`);
    }
  }
  for (const extra of actualByPath.keys()) problems.push(`extra: ${extra}`);
  if (problems.length === 0 && manifestDigest(manifest.files) !== manifest.digest) {
    problems.push(`manifest ${manifestFile} does not match its own digest`);
  }
  return { ok: problems.length === 0, problems };
}
