import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { buildManifest, manifestDigest, manifestPathFor, type ManifestEntry, type ManifestFile } from './manifest.js';

/** What putting a release back to its manifest did, or could not do. */
export interface RestoreResult {
  /** Built files that were changed or missing and were put back, from another copy with the same hash. */
  restored: string[];
  /** Built files whose mode changed and was put back. */
  modesFixed: string[];
  /** Files the app wrote at runtime (not in the manifest): kept, they do not count against the release. */
  runtimeFiles: number;
  /** Built files changed or removed for which no copy with the right content exists anywhere. */
  unrestorable: string[];
  /** The manifest itself could not be read or does not match its digest. */
  manifestProblem?: string;
}

async function sha256Of(file: string): Promise<string | undefined> {
  try {
    const stat = await fs.lstat(file);
    if (!stat.isFile()) return undefined;
    return createHash('sha256').update(await fs.readFile(file)).digest('hex');
  } catch {
    return undefined;
  }
}

/** The first of `candidates` (absolute paths) whose content hashes to `sha256`. */
async function findCopy(candidates: string[], sha256: string): Promise<string | undefined> {
  for (const candidate of candidates) if ((await sha256Of(candidate)) === sha256) return candidate;
  return undefined;
}

/** Copies `source` over `target` atomically (beside it, then renamed), with the manifest's mode. */
async function putBack(source: string, target: string, mode: number): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const staged = `${target}.ccom-restore-${process.pid}`;
  await fs.copyFile(source, staged);
  await fs.chmod(staged, mode);
  await fs.rename(staged, target);
}

/**
 * Puts a release directory back to its manifest before it serves again. Apps such as Next.js write
 * into their build output at runtime (`.next/server/route-cache/`): files the manifest does not list
 * are the app's and are kept. A built file that was changed or removed is restored from any copy
 * with the same hash (`sources`: other releases, the app directory); only when none exists is the
 * release unusable, and the caller names those files. Nothing under `shared` is ever looked at.
 */
export async function restoreRelease(releaseDir: string, opts: { sources: string[]; shared: string[] }): Promise<RestoreResult> {
  const result: RestoreResult = { restored: [], modesFixed: [], runtimeFiles: 0, unrestorable: [] };
  let manifest: ManifestFile;
  try {
    manifest = JSON.parse(await fs.readFile(manifestPathFor(releaseDir), 'utf8')) as ManifestFile;
  } catch (err) {
    return { ...result, manifestProblem: `its manifest ${manifestPathFor(releaseDir)} is unreadable: ${(err as Error).message}` };
  }
  if (manifestDigest(manifest.files) !== manifest.digest) {
    return { ...result, manifestProblem: `its manifest ${manifestPathFor(releaseDir)} does not match its own digest` };
  }
  const isShared = (rel: string) => opts.shared.some((s) => rel === s || rel.startsWith(`${s}/`));
  const actual = new Map((await buildManifest(releaseDir)).map((entry) => [entry.path, entry]));
  for (const expected of manifest.files) {
    if (isShared(expected.path)) continue;
    const found = actual.get(expected.path);
    actual.delete(expected.path);
    if (found && found.sha256 === expected.sha256 && found.size === expected.size) {
      if (found.mode !== expected.mode) {
        await fs.chmod(path.join(releaseDir, expected.path), expected.mode);
        result.modesFixed.push(expected.path);
      }
      continue;
    }
    await restoreOne(releaseDir, expected, opts.sources, result);
  }
  result.runtimeFiles = [...actual.keys()].filter((rel) => !isShared(rel)).length;
  return result;
}

async function restoreOne(releaseDir: string, expected: ManifestEntry, sources: string[], result: RestoreResult): Promise<void> {
  const candidates = sources.map((root) => path.join(root, expected.path));
  const copy = await findCopy(candidates, expected.sha256);
  if (!copy) {
    result.unrestorable.push(expected.path);
    return;
  }
  await putBack(copy, path.join(releaseDir, expected.path), expected.mode);
  result.restored.push(expected.path);
}
