import { createReadStream, promises as fs } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Readable, Writable } from 'node:stream';
import { UserError } from '../../errors.js';
import { manifestPathFor, type ManifestFile } from '../../gates/manifest.js';
import type { RemoteCommand, SshConnection } from './connection.js';
import { shellQuote } from './quote.js';
import { remoteNodeVersion } from './remote-node.js';
import { STORE_SCRIPT } from './remote/store-script.js';
import { describeTree, type ShipTree } from './tree.js';

/** What one ship did on one host. */
export interface ShipResult {
  /** The tree's directory on the host (absolute). */
  remoteDir: string;
  /** The tree was already complete on the host: nothing was sent. */
  alreadyThere: boolean;
  files: number;
  /** Distinct contents the host lacked, and their bytes: all that crossed the wire besides the file list. */
  blobsSent: number;
  blobBytes: number;
  /** Bytes this ship put on the wire (encrypted, SSH framing, the file list and the protocol included). */
  wireBytes: number;
}

export interface ShipOptions {
  /** `$CCOM_HOME` on the host; default: the host's own (its `$CCOM_HOME`, else `~/.local/state/ccom`). */
  remoteHome?: string;
  /** For messages: "shipping release 2026…". */
  during: string;
  /** Re-hash every file on the host, also stored copies unchanged since they were last checked. */
  fullCheck?: boolean;
}

/** Reads newline-terminated JSON documents from the host's stdout, one at a time. */
function lineReader(stream: Readable): () => Promise<Record<string, unknown> | undefined> {
  let buffered = '';
  let ended = false;
  const waiting: (() => void)[] = [];
  const wake = () => waiting.splice(0).forEach((fn) => fn());
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    wake();
  });
  stream.on('end', () => {
    ended = true;
    wake();
  });
  stream.on('close', () => {
    ended = true;
    wake();
  });
  return async () => {
    for (;;) {
      const nl = buffered.indexOf('\n');
      if (nl !== -1) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        return JSON.parse(line) as Record<string, unknown>;
      }
      if (ended) return undefined;
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
  };
}

/** Writes with backpressure; a channel that closed meanwhile ends the wait (its loss is reported elsewhere). */
async function write(stdin: Writable, chunk: Buffer | string): Promise<void> {
  if (stdin.write(chunk) || stdin.destroyed || stdin.writableEnded) return;
  const ac = new AbortController();
  await Promise.race([once(stdin, 'drain', ac), once(stdin, 'close', ac)]).catch(() => undefined);
  ac.abort();
}

/** Streams each blob's bytes, exactly its manifest size; a file that changed size here stops the ship. */
async function sendBlobs(tree: ShipTree, missing: string[], stdin: Writable, stopped: () => boolean): Promise<number> {
  const firstBySha = new Map<string, ShipTree['files'][number]>();
  for (const file of tree.files) if (!firstBySha.has(file.sha256)) firstBySha.set(file.sha256, file);
  let bytes = 0;
  for (const sha of missing) {
    const file = firstBySha.get(sha);
    if (!file) throw new UserError(`the host asked for a blob ${sha} that is no file of this tree`);
    let sent = 0;
    for await (const chunk of createReadStream(path.join(tree.root, file.path), { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
      if (stopped()) return bytes;
      sent += chunk.length;
      if (sent > file.size) break;
      await write(stdin, chunk);
    }
    if (sent !== file.size) {
      throw new UserError(`${file.path} changed on this machine since its manifest was made (${sent} bytes, the manifest says ${file.size})`, {
        fix: 'deploy again: releases are immutable, so something wrote into this one',
      });
    }
    bytes += sent;
  }
  return bytes;
}

function hostRefusal(conn: SshConnection, doc: Record<string, unknown> | undefined, stderr: string, during: string): UserError {
  if (doc && typeof doc.error === 'string') {
    const file = typeof doc.file === 'string' ? ` (file ${doc.file})` : '';
    return new UserError(`${conn.where} refused the files while ${during}: ${doc.error}${file}`, {
      fix: 'run the command again: a partial copy never takes the final name on the host; if it fails again, check the disk of that host',
    });
  }
  return new UserError(`${conn.where}: the store program ended without an answer while ${during}${stderr.trim() ? `: ${stderr.trim().slice(0, 500)}` : ''}`, {
    fix: `check that ${conn.where} has disk space and a working Node.js, then run the command again`,
  });
}

/**
 * Ships `tree` to `dest` under the host's `$CCOM_HOME`, content-addressed: the host says in one
 * round trip which contents it lacks, only those cross the wire (one stream, one exec), and the
 * host materialises the tree from its blob store with hard links and checks it against the
 * manifest before it takes its final name. See remote/store-script.ts for the host's side.
 */
export async function shipTree(conn: SshConnection, tree: ShipTree, dest: string, options: ShipOptions): Promise<ShipResult> {
  await remoteNodeVersion(conn);
  const wireAtStart = conn.wireBytesSent;
  const remote: RemoteCommand = await conn.start(`node -e ${shellQuote(STORE_SCRIPT)}`, { during: options.during });
  let stderr = '';
  remote.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const next = lineReader(remote.stdout);
  // The channel may die under a write; the loss is reported through `done`, never as an unhandled error.
  remote.stdin.on('error', () => undefined);
  const header = {
    ...(options.remoteHome === undefined ? {} : { home: options.remoteHome }),
    dest,
    digest: tree.digest,
    mode: tree.mode,
    ...(options.fullCheck ? { full: true } : {}),
    dirs: tree.dirs.map((d) => [d.path, d.mode]),
    files: tree.files.map((f) => [f.path, f.mode, f.size, f.sha256]),
    links: tree.links.map((l) => [l.path, l.target]),
  };
  const conversation = (async (): Promise<ShipResult> => {
    // Gzipped: the file list is most of what a redeploy sends besides the changed files.
    const packed = gzipSync(JSON.stringify(header));
    await write(remote.stdin, `${packed.length}\n`);
    await write(remote.stdin, packed);
    const plan = await next();
    if (plan?.exists === true) {
      remote.stdin.end();
      return { remoteDir: String(plan.dir), alreadyThere: true, files: tree.files.length, blobsSent: 0, blobBytes: 0, wireBytes: 0 };
    }
    if (!plan || !Array.isArray(plan.missing)) throw hostRefusal(conn, plan, stderr, options.during);
    const missing = plan.missing as string[];
    let answered: Record<string, unknown> | undefined;
    const answer = next().then((doc) => (answered = doc));
    const blobBytes = await sendBlobs(tree, missing, remote.stdin, () => answered !== undefined);
    remote.stdin.end();
    const done = await answer;
    if (done?.ok !== true) throw hostRefusal(conn, done, stderr, options.during);
    return { remoteDir: String(done.dir), alreadyThere: false, files: tree.files.length, blobsSent: missing.length, blobBytes, wireBytes: 0 };
  })();
  // A lost connection rejects `done` (naming the host) while the conversation may wait forever on a write or a line.
  conversation.catch(() => undefined);
  const result = await Promise.race([conversation, remote.done.then(async () => conversation)]);
  const exit = await remote.done;
  if (exit.code !== 0 && !result.alreadyThere) throw hostRefusal(conn, undefined, stderr, options.during);
  return { ...result, wireBytes: conn.wireBytesSent - wireAtStart };
}

/** Where a release of `app` lives under `$CCOM_HOME` on a host: the same layout as on this machine. */
export function remoteReleasePath(app: string, releaseId: string): string {
  return `apps/${app}/releases/${releaseId}`;
}

/**
 * Ships a built release (`$CCOM_HOME/apps/<app>/releases/<id>/` here, with its manifest beside it)
 * to the same place under the host's `$CCOM_HOME`. Symlinks travel as they are: `shared:` links
 * point at this machine's app directory, and the SSH target re-points them on the host.
 */
export async function shipRelease(conn: SshConnection, app: string, releaseDir: string, options: Partial<ShipOptions> = {}): Promise<ShipResult> {
  const id = path.basename(releaseDir);
  const manifestFile = manifestPathFor(releaseDir);
  let manifest: ManifestFile;
  try {
    manifest = JSON.parse(await fs.readFile(manifestFile, 'utf8')) as ManifestFile;
  } catch (err) {
    throw new UserError(`release ${id} has no readable manifest (${manifestFile}): ${(err as Error).message}`, { fix: 'deploy again to build a new release', cause: err });
  }
  const stale = (rel: string) =>
    new UserError(`release ${id} no longer matches its manifest: ${rel} changed on this machine since it was built`, { fix: 'deploy again: a new release is built and shipped' });
  const tree = await describeTree(releaseDir, { known: manifest.files, onStale: stale });
  if (tree.digest !== manifest.digest) throw stale(manifestFile);
  return shipTree(conn, tree, remoteReleasePath(app, id), { during: `shipping release ${id}`, ...options });
}
