import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { freeBytes } from './disk.js';
import { buildManifest, manifestDigest, manifestPathFor, type ManifestEntry, type ManifestFile } from './manifest.js';
import { mapLimit } from './map-limit.js';
import { assertResolvesInside, collectArtifacts, collectTree, insideAppDir, type TreeItem } from './release-tree.js';

export { verifyRelease, manifestPathFor, type ManifestEntry, type ManifestFile } from './manifest.js';

export interface AssembleReleaseOptions {
  appDir: string;
  /** Final location of the release; must not exist yet (releases are immutable). */
  releaseDir: string;
  /** Paths relative to appDir that make up the release; default: the whole app dir. */
  artifacts?: string[];
  /** Paths kept across releases: linked to the app dir's own copy, never copied. */
  shared: string[];
  /** Paths never copied into a release (e.g. the env file: secrets stay out of releases). */
  exclude?: string[];
}

export interface AssembledRelease {
  files: number;
  bytes: number;
  digest: string;
  manifest: ManifestEntry[];
}

const COPY_CONCURRENCY = 16;
/** Errors that mean "cannot hard-link here", where a copy still works. */
const NO_LINK_CODES = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP']);

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

async function placeFile(src: string, dst: string, rel: string): Promise<void> {
  // node_modules is large and never edited in place by package managers, so share its inodes.
  if (rel.split('/').includes('node_modules')) {
    try {
      await fs.link(src, dst);
      return;
    } catch (err) {
      if (!NO_LINK_CODES.has(errCode(err) ?? '')) throw err;
    }
  }
  // FICLONE: a reflink (shared extents) where the file system supports it, a plain copy elsewhere.
  await fs.copyFile(src, dst, constants.COPYFILE_FICLONE);
}

async function placeItems(appDir: string, target: string, items: TreeItem[]): Promise<void> {
  const dirs = items.filter((item) => item.kind === 'dir');
  for (const dir of dirs) await fs.mkdir(path.join(target, dir.rel), { recursive: true });
  const leaves = items.filter((item) => item.kind !== 'dir');
  await mapLimit(leaves, COPY_CONCURRENCY, async (item) => {
    const src = path.join(appDir, item.rel);
    const dst = path.join(target, item.rel);
    if (item.kind === 'symlink') await fs.symlink(await fs.readlink(src), dst);
    else await placeFile(src, dst, item.rel);
  });
  // Directory modes last (deepest first): a read-only source dir must not stop us filling its copy.
  for (const dir of dirs.reverse()) await fs.chmod(path.join(target, dir.rel), dir.mode);
}

async function linkShared(appDir: string, target: string, shared: string[]): Promise<void> {
  for (const rel of shared) {
    await assertResolvesInside(appDir, rel, 'shared path');
    const own = path.join(appDir, rel);
    try {
      await fs.lstat(own);
    } catch (err) {
      if (errCode(err) !== 'ENOENT') throw err;
      await fs.mkdir(own, { recursive: true });
    }
    const link = path.join(target, rel);
    await fs.mkdir(path.dirname(link), { recursive: true });
    await fs.rm(link, { recursive: true, force: true });
    await fs.symlink(own, link);
  }
}

async function translateFailure(err: unknown, releaseDir: string): Promise<unknown> {
  if (err instanceof UserError) return err;
  const code = errCode(err);
  const parent = path.dirname(releaseDir);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    const free = await freeBytes(parent).catch(() => undefined);
    const freeText = free === undefined ? '' : ` (${Math.round(free / 1024 / 1024)} MiB free)`;
    return new UserError(`no space left on the disk holding ${parent}${freeText} while assembling the release`, {
      fix: `free space on that disk or prune old releases in ${parent}, then deploy again`,
      cause: err,
    });
  }
  if (code === 'EACCES') {
    const where = (err as NodeJS.ErrnoException).path ?? parent;
    return new UserError(`permission denied on ${where} while assembling the release`, {
      fix: `make the app files readable and ${path.dirname(releaseDir)} writable by this user, or list only what the release needs in build.artifacts`,
      cause: err,
    });
  }
  return err;
}

/**
 * Assembles an immutable release: copies the app (or only `artifacts`) into `releaseDir`, hard-linking
 * node_modules and reflinking other files where possible, links `shared` paths to the app dir's own
 * copy, and writes a manifest of every regular file beside the release (`<releaseDir>.manifest.json`).
 * The release appears under its final name only when complete.
 */
export async function assembleRelease(opts: AssembleReleaseOptions): Promise<AssembledRelease> {
  const appDir = path.resolve(opts.appDir);
  const releaseDir = path.resolve(opts.releaseDir);
  const shared = opts.shared.map((p) => insideAppDir(p, 'shared path'));
  const manifestFile = manifestPathFor(releaseDir);
  if (await fs.lstat(releaseDir).then(() => true, () => false)) {
    throw new UserError(`release ${path.basename(releaseDir)} already exists at ${releaseDir}`, {
      fix: 'releases are immutable: assemble under a new release id',
    });
  }
  // Never copy ccom's state: the `.ccom/` of builds that kept it in the app dir, nor the release
  // being built (should CCOM_HOME be inside the app dir).
  const excluded = ['.git', '.ccom', ...shared, ...(opts.exclude ?? []).map((p) => insideAppDir(p, 'excluded path'))];
  const releaseParent = path.relative(appDir, path.dirname(releaseDir));
  if (releaseParent !== '' && !releaseParent.startsWith('..') && !path.isAbsolute(releaseParent)) {
    excluded.push(releaseParent.split(path.sep).join('/'));
  }
  const items =
    opts.artifacts === undefined
      ? await collectTree(appDir, '', excluded)
      : await collectArtifacts(appDir, opts.artifacts, excluded);

  const tmp = `${releaseDir}.tmp-${process.pid}`;
  const manifestTmp = `${manifestFile}.tmp-${process.pid}`;
  try {
    await fs.rm(tmp, { recursive: true, force: true });
    await fs.mkdir(tmp, { recursive: true });
    await placeItems(appDir, tmp, items);
    await linkShared(appDir, tmp, shared);
    const manifest = await buildManifest(tmp);
    const digest = manifestDigest(manifest);
    const document: ManifestFile = { digest, files: manifest };
    await fs.writeFile(manifestTmp, `${JSON.stringify(document, null, 2)}\n`);
    // Manifest first: a release under its final name always has one.
    await fs.rename(manifestTmp, manifestFile);
    try {
      await fs.rename(tmp, releaseDir);
    } catch (err) {
      await fs.rm(manifestFile, { force: true });
      throw err;
    }
    const bytes = manifest.reduce((sum, entry) => sum + entry.size, 0);
    return { files: manifest.length, bytes, digest, manifest };
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    await fs.rm(manifestTmp, { force: true }).catch(() => undefined);
    throw await translateFailure(err, releaseDir);
  }
}
