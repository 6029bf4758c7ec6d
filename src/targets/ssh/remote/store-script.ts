/**
 * The program ccom runs on a host (`node -e`, CommonJS, Node ≥ 20, no dependencies) to receive a
 * tree into its content-addressed store. It is kept as text because it runs on the host, not
 * here; test/ssh-ship.test.ts runs it against real sshd hosts.
 *
 * Conversation over the one exec channel (one round trip for "which blobs do you lack"):
 *   ccom → host  the header's byte length on a line, then the header, gzipped JSON:
 *                { home?, dest, digest, mode, full?, dirs: [[path, mode]], files: [[path, mode, size, sha256]], links: [[path, target]] }
 *   host → ccom  one JSON line: { exists: true } (done) or { missing: [sha256, …] }
 *   ccom → host  the bytes of each missing blob, in that order, back to back (sizes are in the header)
 *   host → ccom  one JSON line: { ok: true, dir, files, received } or { error, file? }
 *
 * On the host, under $CCOM_HOME (default ~/.local/state/ccom, as on the deploying machine):
 *   blobs/<sha[0:2]>/<sha256>/<mode in octal>   one file per content and mode (a hard link shares
 *                                               the mode, so a content wanted with two modes is two files)
 *   blobs/checked.json                          { "<sha>:<mode>": "inode:ctime:size" } of each stored file
 *                                               when it was last hashed or checked; while that still
 *                                               matches, the file is unchanged (a write through any link
 *                                               moves ctime, which no user can set back) and is not
 *                                               re-hashed (`full: true` re-hashes every file regardless)
 *   blobs/tmp/<pid>-<n>                         a blob being received, renamed once its hash checked out
 *   <dest>.tmp-<pid>/                           the tree being materialised (hard links to blobs)
 *   <dest>.manifest.json, then <dest>/          renamed into place only after the tree was re-hashed
 *                                               against the manifest: a half-shipped tree never has
 *                                               its final name. Temps of dead pids are removed first.
 */
export const STORE_SCRIPT = String.raw`'use strict';
const fs = require('fs');
const path = require('path');
const os = require('os');
const crypto = require('crypto');
const zlib = require('zlib');

const out = (doc) => process.stdout.write(JSON.stringify(doc) + '\n');
class Refusal extends Error { constructor(message, file) { super(message); this.file = file; } }

function ccomHome(given) {
  if (given) return given.startsWith('~/') ? path.join(os.homedir(), given.slice(2)) : path.resolve(os.homedir(), given);
  if (process.env.CCOM_HOME) return path.resolve(process.env.CCOM_HOME);
  const xdg = process.env.XDG_STATE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.local', 'state'), 'ccom');
}

function safeRelative(rel) {
  if (typeof rel !== 'string' || rel === '' || rel.startsWith('/') || rel.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new Refusal('unsafe path in the tree: ' + JSON.stringify(rel));
  }
  return rel;
}

// Reads stdin on demand: a line, or exactly n bytes.
const input = process.stdin[Symbol.asyncIterator]();
let pending = Buffer.alloc(0);
async function more() {
  const next = await input.next();
  if (next.done) return false;
  pending = pending.length === 0 ? next.value : Buffer.concat([pending, next.value]);
  return true;
}
async function readLine() {
  for (;;) {
    const nl = pending.indexOf(10);
    if (nl !== -1) {
      const line = pending.subarray(0, nl).toString('utf8');
      pending = pending.subarray(nl + 1);
      return line;
    }
    if (!(await more())) throw new Refusal('the input ended before the header did');
  }
}
async function readExact(n, sink) {
  while (n > 0) {
    if (pending.length === 0 && !(await more())) throw new Refusal('the input ended ' + n + ' bytes early (the transfer was cut)');
    const part = pending.subarray(0, Math.min(n, pending.length));
    pending = pending.subarray(part.length);
    n -= part.length;
    sink(part);
  }
}

const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (err) { return err.code === 'EPERM'; } };
function removeDeadTemps(dir, prefix) {
  let names;
  try { names = fs.readdirSync(dir); } catch { return; }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && !alive(pid)) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

const sha256File = (file) => {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) hash.update(buf.subarray(0, n));
  } finally { fs.closeSync(fd); }
  return hash.digest('hex');
};

async function main() {
  const headerBytes = Number(await readLine());
  const headerParts = [];
  await readExact(headerBytes, (part) => headerParts.push(Buffer.from(part)));
  const header = JSON.parse(zlib.gunzipSync(Buffer.concat(headerParts)).toString('utf8'));
  const home = ccomHome(header.home);
  const dest = path.join(home, safeRelative(header.dest));
  const manifestFile = dest + '.manifest.json';
  const blobs = path.join(home, 'blobs');
  const shaDir = (sha) => path.join(blobs, sha.slice(0, 2), sha);
  const variant = (sha, mode) => path.join(shaDir(sha), mode.toString(8));
  const variants = (sha) => { try { return fs.readdirSync(shaDir(sha)); } catch { return []; } };
  // A blob is trusted without re-hashing while it is the inode, ctime and size recorded when it was
  // last hashed or checked: any write through any of its links changes its ctime, which no user can set back.
  const stamp = (file) => { const st = fs.lstatSync(file, { bigint: true }); return st.ino + ':' + st.ctimeNs + ':' + st.size; };
  // One index for the store, rewritten whole (temp + rename). A lost update between two ships at
  // once only costs a re-hash: an entry is a true observation, and trusts only the exact stamp it saw.
  const checkedFile = path.join(blobs, 'checked.json');
  let checked = {};
  try { checked = JSON.parse(fs.readFileSync(checkedFile, 'utf8')); } catch { checked = {}; }
  const unchanged = (sha, mode) => { try { return checked[sha + ':' + mode] === stamp(variant(sha, mode)); } catch { return false; } };
  const trusted = new Set();
  const files = header.files.map(([p, mode, size, sha]) => ({ path: safeRelative(p), mode, size, sha }));
  header.dirs.forEach(([p]) => safeRelative(p));
  header.links.forEach(([p]) => safeRelative(p));

  if (fs.existsSync(dest) && fs.existsSync(manifestFile)) { out({ exists: true, dir: dest }); return; }
  fs.mkdirSync(path.join(blobs, 'tmp'), { recursive: true, mode: 0o700 });
  fs.mkdirSync(path.dirname(dest), { recursive: true, mode: 0o700 });
  removeDeadTemps(path.join(blobs, 'tmp'), '');
  removeDeadTemps(blobs, 'checked.json.tmp-');
  removeDeadTemps(path.dirname(dest), path.basename(dest) + '.tmp-');
  removeDeadTemps(path.dirname(dest), path.basename(dest) + '.manifest.json.tmp-');

  const firstBySha = new Map();
  for (const f of files) if (!firstBySha.has(f.sha)) firstBySha.set(f.sha, f);
  const missing = [...firstBySha.keys()].filter((sha) => variants(sha).length === 0);
  out({ missing });

  let received = 0;
  for (const [i, sha] of missing.entries()) {
    const f = firstBySha.get(sha);
    const tmp = path.join(blobs, 'tmp', process.pid + '-' + i);
    const fd = fs.openSync(tmp, 'w', 0o600);
    const hash = crypto.createHash('sha256');
    try {
      await readExact(f.size, (part) => { hash.update(part); fs.writeSync(fd, part); });
    } finally { fs.closeSync(fd); }
    received += f.size;
    if (hash.digest('hex') !== sha) { fs.rmSync(tmp, { force: true }); throw new Refusal('the bytes received for ' + f.path + ' do not have its sha256 (changed on this machine since the manifest was made?)', f.path); }
    fs.chmodSync(tmp, f.mode);
    fs.mkdirSync(shaDir(sha), { recursive: true, mode: 0o700 });
    fs.renameSync(tmp, variant(sha, f.mode));
    trusted.add(sha + ':' + f.mode); // hashed just now
  }
  if (!header.full) for (const f of files) if (!trusted.has(f.sha + ':' + f.mode) && unchanged(f.sha, f.mode)) trusted.add(f.sha + ':' + f.mode);

  const work = dest + '.tmp-' + process.pid;
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { mode: 0o700 });
  const dirs = header.dirs.map(([p, mode]) => ({ path: p, mode })).sort((a, b) => a.path.length - b.path.length);
  for (const d of dirs) fs.mkdirSync(path.join(work, d.path), { recursive: true, mode: 0o700 });
  for (const f of files) {
    const source = variant(f.sha, f.mode);
    if (!fs.existsSync(source)) {
      // Same content, another mode: made here from the copy the host has, nothing crosses the wire.
      const other = variants(f.sha)[0];
      if (other === undefined) throw new Refusal('the blob of ' + f.path + ' is not on the host', f.path);
      const tmp = path.join(blobs, 'tmp', process.pid + '-m-' + f.sha.slice(0, 12));
      fs.copyFileSync(path.join(shaDir(f.sha), other), tmp);
      fs.chmodSync(tmp, f.mode);
      fs.renameSync(tmp, source);
    }
    const target = path.join(work, f.path);
    try { fs.linkSync(source, target); } catch (err) {
      if (err.code !== 'EMLINK' && err.code !== 'EXDEV') throw err;
      fs.copyFileSync(source, target);
      fs.chmodSync(target, f.mode);
    }
  }
  for (const [p, target] of header.links) fs.symlinkSync(target, path.join(work, p));

  // The manifest checked on the host: every file re-hashed, modes and links compared, nothing extra.
  const wanted = new Map(files.map((f) => [f.path, f]));
  const wantedLinks = new Map(header.links);
  const wantedDirs = new Set(header.dirs.map(([p]) => p));
  const walk = (rel) => {
    for (const entry of fs.readdirSync(path.join(work, rel), { withFileTypes: true })) {
      const child = rel === '' ? entry.name : rel + '/' + entry.name;
      const abs = path.join(work, child);
      if (entry.isDirectory()) {
        if (!wantedDirs.has(child)) throw new Refusal('extra directory on the host: ' + child, child);
        walk(child);
      } else if (entry.isSymbolicLink()) {
        if (wantedLinks.get(child) !== fs.readlinkSync(abs)) throw new Refusal('symlink differs on the host: ' + child, child);
        wantedLinks.delete(child);
      } else {
        const f = wanted.get(child);
        if (!f) throw new Refusal('extra file on the host: ' + child, child);
        wanted.delete(child);
        const st = fs.lstatSync(abs);
        if ((st.mode & 0o7777) !== f.mode) throw new Refusal('mode of ' + child + ' is ' + (st.mode & 0o7777).toString(8) + ' on the host, not ' + f.mode.toString(8), child);
        const linked = trusted.has(f.sha + ':' + f.mode) && st.ino === fs.lstatSync(variant(f.sha, f.mode)).ino;
        if (st.size !== f.size || (!linked && sha256File(abs) !== f.sha)) {
          // A stored blob that no longer has its hash (written to through a link?) is dropped, so the next ship sends it again.
          fs.rmSync(shaDir(f.sha), { recursive: true, force: true });
          throw new Refusal('content of ' + child + ' on the host does not match the manifest (its stored copy was changed; it is sent again next time)', child);
        }
      }
    }
  };
  walk('');
  const left = [...wanted.keys(), ...wantedLinks.keys()];
  if (left.length > 0) throw new Refusal('missing on the host: ' + left[0], left[0]);
  for (const d of [...dirs].reverse()) fs.chmodSync(path.join(work, d.path), d.mode);
  fs.chmodSync(work, header.mode);

  const entries = files.map((f) => ({ path: f.path, size: f.size, mode: f.mode, sha256: f.sha }));
  const digest = 'sha256:' + entries.reduce((h, e) => h.update(e.sha256 + '  ' + e.path + '\n'), crypto.createHash('sha256')).digest('hex');
  if (header.digest !== undefined && digest !== header.digest) throw new Refusal('the manifest digest on the host is ' + digest + ', not ' + header.digest);
  const manifestTmp = manifestFile + '.tmp-' + process.pid;
  const fd = fs.openSync(manifestTmp, 'w', 0o644);
  fs.writeSync(fd, JSON.stringify({ digest, files: entries }, null, 2) + '\n');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  // Checked: each stored copy used is recorded as it is now (linking changed its ctime).
  for (const f of files) checked[f.sha + ':' + f.mode] = stamp(variant(f.sha, f.mode));
  const checkedTmp = checkedFile + '.tmp-' + process.pid;
  fs.writeFileSync(checkedTmp, JSON.stringify(checked));
  fs.renameSync(checkedTmp, checkedFile);
  // Manifest first, as on the deploying machine: a tree under its final name always has one.
  fs.renameSync(manifestTmp, manifestFile);
  try { fs.renameSync(work, dest); } catch (err) { fs.rmSync(manifestFile, { force: true }); throw err; }
  out({ ok: true, dir: dest, files: files.length, received });
}

main().catch((err) => {
  out({ error: err instanceof Refusal ? err.message : String(err && err.stack || err), ...(err && err.file ? { file: err.file } : {}) });
  process.exitCode = 1;
});
`;
