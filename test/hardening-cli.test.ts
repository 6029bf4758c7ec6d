import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { get, runCcom } from './helpers/ccom.js';
import { writeConfig } from './helpers/failure-tools.js';
import { fixtureApp, type FixtureApp } from './helpers/fixture-app.js';

test('a state directory left at 0755 is tightened to 0700, and the user is told once', async () => {
  const app = fixtureApp('v1');
  try {
    mkdirSync(app.state, { recursive: true, mode: 0o755 });
    chmodSync(app.state, 0o755);
    const first = await runCcom(['releases', '-C', app.dir]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /⚠ .* was mode 0755 .*it is 0700 now/);
    assert.equal(statSync(app.state).mode & 0o777, 0o700);
    const again = await runCcom(['releases', '-C', app.dir]);
    assert.doesNotMatch(again.stderr, /was mode/, 'said once, not on every command');
  } finally {
    await app.cleanup();
  }
});

test('with proxy.host 0.0.0.0 the URL printed is one a browser on this machine can open', async () => {
  const app = fixtureApp('v1');
  try {
    writeConfig(app, [['proxy:\n  port: 0', 'proxy:\n  host: 0.0.0.0\n  port: 0']]);
    const deploy = await runCcom(['deploy', '-C', app.dir, '--json']);
    assert.equal(deploy.code, 0, deploy.stderr);
    const url: string = deploy.json.deployment.url;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(deploy.stderr, new RegExp(`live at ${url.replace(/\./g, '\\.')}`));
    assert.equal((await get(url)).body, 'ok v1');
    const status = await runCcom(['status', '-C', app.dir, '--json']);
    assert.equal(status.json.url, url);
    assert.equal((await runCcom(['status', '-C', app.dir])).stdout.trim(), url);
  } finally {
    await app.cleanup();
  }
});

/** A fixture app on a 40 MiB tmpfs of its own: a small disk, for real. */
async function onSmallDisk(run: (app: FixtureApp) => Promise<void>): Promise<void> {
  const mount = mkdtempSync(join(tmpdir(), 'ccom-small-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=40m', 'tmpfs', mount]);
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = mount; // fixtureApp makes its directory under os.tmpdir()
  let app: FixtureApp | undefined;
  try {
    app = fixtureApp('v1');
    process.env.TMPDIR = saved;
    if (saved === undefined) delete process.env.TMPDIR;
    await run(app);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    await app?.cleanup();
    execFileSync('umount', [mount]);
    rmdirSync(mount);
  }
}

test('a small release deploys on a small disk; one that would not leave room for itself twice is blocked', async () => {
  await onSmallDisk(async (app) => {
    const deploy = await runCcom(['deploy', '-C', app.dir, '--json']);
    assert.equal(deploy.code, 0, deploy.stderr);
    const capacity = deploy.json.deployment.steps.find((s: { name: string }) => s.name === 'capacity');
    assert.ok(capacity, 'the deploy checked capacity');
    // 15 MB of app: its copy plus as much again does not fit in what is left of 40 MiB.
    writeFileSync(join(app.dir, 'assets.bin'), Buffer.alloc(15e6, 1));
    const big = await runCcom(['deploy', '-C', app.dir, '--json']);
    assert.equal(big.code, 2, big.stderr);
    assert.match(big.json.deployment.reason, /disk: \d+ MB free where releases are kept \(.*\); a release needs about \d+ MB/);
  });
});

test('deploy with build.artifacts reaching /etc through a symlink is blocked, naming the path and where it points', async () => {
  const app = fixtureApp('v1');
  try {
    symlinkSync('/etc', join(app.dir, 'etclink'));
    writeConfig(app, [], 'build:\n  artifacts: [server.js, package.json, etclink/passwd]\n');
    const deploy = await runCcom(['deploy', '-C', app.dir, '--json']);
    assert.equal(deploy.code, 2, deploy.stderr);
    assert.match(deploy.json.deployment.reason, /build artifact "etclink\/passwd" resolves outside the app directory: etclink\/passwd → \/etc\/passwd/);
    assert.match(deploy.stderr, /^❌ Deployment blocked - /m);
    const releases = join(app.state, 'releases');
    assert.deepEqual(existsSync(releases) ? readdirSync(releases) : [], [], 'no release was assembled');
  } finally {
    await app.cleanup();
  }
});
