import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assembleRelease, manifestPathFor, type ManifestFile } from '../src/gates/release.js';
import { SshConnection } from '../src/targets/ssh/connection.js';
import { sshSettings } from '../src/targets/ssh/settings.js';
import { shipRelease } from '../src/targets/ssh/ship.js';
import { describeRuntime, shipRuntime } from '../src/targets/ssh/runtime.js';
import { UserError } from '../src/errors.js';
import { startSshHosts, type SshTestFleet, type SshTestHost } from './helpers/ssh-hosts.js';

// Releases built by ccom's own assembleRelease, shipped to real sshd hosts in namespaces of their own.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ccom-ssh-ship-'));
const appDir = path.join(tmp, 'app');
const releases = path.join(tmp, 'releases');
let fleet: SshTestFleet;
before(async () => {
  fleet = await startSshHosts(2);
});
after(() => {
  fleet?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const REMOTE = '/root/.local/state/ccom/apps/shop/releases';
const open = (host: SshTestHost) =>
  SshConnection.open({ host: host.address, port: host.port }, sshSettings({ user: 'root', identityFile: fleet.identityFile, knownHosts: fleet.knownHosts, keepaliveIntervalMs: 300 }));

function write(rel: string, content: string | Buffer, mode = 0o644): void {
  fs.mkdirSync(path.dirname(path.join(appDir, rel)), { recursive: true });
  fs.writeFileSync(path.join(appDir, rel), content, { mode });
  fs.chmodSync(path.join(appDir, rel), mode);
}

async function release(id: string): Promise<string> {
  const dir = path.join(releases, id);
  await assembleRelease({ appDir, releaseDir: dir, shared: [] });
  return dir;
}

/** The host's own sha256sum of every file a manifest lists, compared with it. */
function checkOnHost(host: SshTestHost, id: string, manifest: ManifestFile): void {
  const list = manifest.files.map((f) => `${f.sha256}  ${f.path}`).join('\n');
  const check = host.run(`cd ${REMOTE}/${id} && sha256sum --quiet -c -`, `${list}\n`);
  assert.equal(check.code, 0, `${host.name}: ${check.stdout}${check.stderr}`);
}

const manifestOf = (dir: string) => JSON.parse(fs.readFileSync(manifestPathFor(dir), 'utf8')) as ManifestFile;

async function refusal(promise: Promise<unknown>): Promise<UserError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
  return err;
}

test('a release ships to two hosts, is checked there, and a redeploy sends only the changed file', async () => {
  write('package.json', '{"name":"shop"}\n');
  write('server.js', 'require("http").createServer((q, s) => s.end("v1")).listen(process.env.PORT);\n');
  write('bin/start', '#!/bin/sh\nexec node server.js\n', 0o755);
  write('public/same-a.txt', 'same content\n');
  write('public/same-b.txt', 'same content\n');
  for (let i = 0; i < 40; i++) write(`public/assets/${i}.bin`, randomBytes(5_000 + i * 1_000));
  write('public/app.js', randomBytes(200_000));
  fs.symlinkSync('public/app.js', path.join(appDir, 'current.js'));
  const r1 = await release('r1');
  write('public/app.js', randomBytes(200_000));
  const r2 = await release('r2');

  for (const host of fleet.hosts) {
    const conn = await open(host);
    try {
      const first = await shipRelease(conn, 'shop', r1);
      assert.equal(first.remoteDir, `${REMOTE}/r1`);
      assert.equal(first.blobsSent, first.files - 1, 'the two files with one content cross once');
      checkOnHost(host, 'r1', manifestOf(r1));
      assert.equal(host.run(`stat -c %a ${REMOTE}/r1/bin/start; readlink ${REMOTE}/r1/current.js`).stdout, '755\npublic/app.js\n');
      assert.equal(host.run(`cat ${REMOTE}/r1.manifest.json`).stdout, fs.readFileSync(manifestPathFor(r1), 'utf8'), 'the same manifest as here');

      const second = await shipRelease(conn, 'shop', r2);
      assert.equal(second.blobsSent, 1);
      assert.equal(second.blobBytes, 200_000);
      // The wire carries the file, the file list (~50 entries), the store program and SSH framing.
      assert.ok(second.wireBytes >= 200_000 && second.wireBytes < 200_000 + 40_000, `wire bytes ${second.wireBytes}`);
      checkOnHost(host, 'r2', manifestOf(r2));
      const inodes = host.run(`stat -c %i ${REMOTE}/r1/server.js ${REMOTE}/r2/server.js`).stdout.trim().split('\n');
      assert.equal(inodes[0], inodes[1], 'unchanged files are hard links to one stored copy');

      const again = await shipRelease(conn, 'shop', r2);
      assert.equal(again.alreadyThere, true);
    } finally {
      conn.close();
    }
  }
});

test('a stored copy changed on the host fails the check naming the file, and is sent again next time', async () => {
  const [a] = fleet.hosts as [SshTestHost];
  a.run(`echo tampered >> ${REMOTE}/r2/server.js`); // through the hard link: the stored blob changes too
  write('README', 'r3\n');
  const r3 = await release('r3');
  const conn = await open(a);
  try {
    const err = await refusal(shipRelease(conn, 'shop', r3));
    assert.match(err.message, new RegExp(`root@${a.address} refused the files while shipping release r3: content of server\\.js on the host does not match the manifest.*\\(file server\\.js\\)`));
    assert.equal(a.run(`test -e ${REMOTE}/r3 || test -e ${REMOTE}/r3.manifest.json`).code, 1, 'no r3 under its final name');
    const retry = await shipRelease(conn, 'shop', r3);
    assert.equal(retry.blobsSent, 1, 'the dropped server.js (README arrived the first time)');
    checkOnHost(a, 'r3', manifestOf(r3));
  } finally {
    conn.close();
  }
});

test('sshd killed mid-ship: a clear error naming the host, and no release that looks complete', async () => {
  const b = fleet.hosts[1]!;
  write('public/big.bin', randomBytes(48_000_000));
  const r4 = await release('r4');
  const conn = await open(b);
  const start = conn.wireBytesSent;
  const shipping = shipRelease(conn, 'shop', r4);
  const killer = setInterval(() => {
    if (conn.wireBytesSent - start > 4_000_000) {
      clearInterval(killer);
      b.killSshd();
    }
  }, 5);
  try {
    const err = await refusal(shipping);
    assert.match(err.message, new RegExp(`^lost the SSH connection to root@${b.address} while shipping release r4`));
  } finally {
    clearInterval(killer);
    conn.close();
  }
  const left = b.run(`ls -a ${REMOTE}`).stdout.split('\n');
  assert.ok(!left.includes('r4') && !left.includes('r4.manifest.json'), `on the host: ${left.join(' ')}`);
  assert.ok(left.includes('r2') && left.includes('r2.manifest.json'), 'earlier releases are intact');
});

test("ccom's runtime ships once: dist, bin and production dependencies, native addons loaded by the host's Node", async () => {
  const a = fleet.hosts[0]!;
  const runtime = await describeRuntime();
  assert.ok(runtime.tree.files.some((f) => f.path === 'dist/agent.js'));
  assert.ok(!runtime.tree.files.some((f) => f.path.startsWith('node_modules/typescript/')), 'no dev dependencies');
  const conn = await open(a);
  try {
    const shipped = await shipRuntime(conn, runtime);
    assert.equal(shipped.remoteDir, `/root/.local/state/ccom/runtime/${runtime.name}`);
    const load = a.run(`cd ${shipped.remoteDir} && node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get(); require('ssh2'); console.log('loaded')"`);
    assert.equal(load.stdout, 'loaded\n', load.stderr);
    const again = await shipRuntime(conn, runtime);
    assert.equal(again.alreadyThere, true);
  } finally {
    conn.close();
  }
});

test('a host without Node.js, or with one older than 20, is reported naming the host and the fix', async () => {
  const odd = await startSshHosts(2, [{ node: 'missing' }, { node: 'v18.19.0' }]);
  try {
    const [missing, old] = odd.hosts as [SshTestHost, SshTestHost];
    assert.notEqual(missing.run('command -v node').code, 0, 'node is really gone inside that host');
    const settings = sshSettings({ user: 'root', identityFile: odd.identityFile, knownHosts: odd.knownHosts });
    for (const [host, expected] of [
      [missing, /has no Node\.js: `node` is not on the PATH of its SSH sessions/],
      [old, /has Node\.js v18\.19\.0; ccom needs 20 or later there/],
    ] as const) {
      const conn = await SshConnection.open({ host: host.address }, settings);
      try {
        const err = await refusal(shipRelease(conn, 'shop', path.join(releases, 'r1')));
        assert.match(err.message, new RegExp(`^root@${host.address.replace(/\./g, '\\.')} ${expected.source}`));
        assert.match(err.fix ?? '', /install Node\.js 20 or later on root@/);
        assert.equal(host.run('test -e /root/.local').code, 1, 'nothing was written on the host');
      } finally {
        conn.close();
      }
    }
  } finally {
    odd.stop();
  }
});
