import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { UserError } from '../src/errors.js';
import { runCommand, tailLines } from '../src/gates/run-command.js';
import { assembleRelease, verifyRelease, manifestPathFor } from '../src/gates/release.js';
import { loadEnvFile } from '../src/gates/env.js';
import { isPortFree, findFreePort, describePortOwner } from '../src/gates/port.js';
import { freeBytes } from '../src/gates/disk.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'ccom-gates-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

function tempDir(name: string): string {
  return fs.mkdtempSync(path.join(tmpRoot, `${name}-`));
}

/** Alive = exists and is not a zombie (in containers nobody may reap orphans). */
function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

// ---------- runCommand ----------

test('runCommand captures stdout and stderr and reports success', async () => {
  const chunks: string[] = [];
  const result = await runCommand('echo out; echo err >&2', { cwd: tmpRoot, timeoutMs: 10_000, onOutput: (c) => chunks.push(c) });
  assert.equal(result.code, 0);
  assert.equal(result.timedOut, false);
  assert.match(result.output, /out/);
  assert.match(result.output, /err/);
  assert.match(chunks.join(''), /out/);
});

test('runCommand reports a failing exit code', async () => {
  const result = await runCommand('echo failing; exit 3', { cwd: tmpRoot, timeoutMs: 10_000 });
  assert.equal(result.code, 3);
  assert.equal(tailLines(result.output, 1), 'failing');
});

test('runCommand passes env and cwd', async () => {
  const dir = tempDir('cwd');
  const result = await runCommand('echo "$CCOM_TEST_VAR"; pwd', {
    cwd: dir,
    env: { ...process.env, CCOM_TEST_VAR: 'hello-env' },
    timeoutMs: 10_000,
  });
  assert.equal(result.code, 0);
  assert.deepEqual(result.output.trim().split('\n'), ['hello-env', fs.realpathSync(dir)]);
});

test('runCommand keeps only the last 64 KiB of output', async () => {
  const result = await runCommand("head -c 200000 /dev/zero | tr '\\0' a; echo; echo END", { cwd: tmpRoot, timeoutMs: 10_000 });
  assert.equal(result.output.length, 64 * 1024);
  assert.match(result.output, /END\n$/);
});

test('runCommand timeout kills the whole process group', async () => {
  const result = await runCommand('sleep 30 & echo $!; wait', { cwd: tmpRoot, timeoutMs: 300 });
  assert.equal(result.timedOut, true);
  const sleepPid = Number(result.output.trim());
  assert.ok(sleepPid > 0, `expected a pid, got ${result.output}`);
  // runCommand only resolves once the group is gone (or SIGKILLed), so no waiting here.
  assert.equal(isAlive(sleepPid), false);
});

test('runCommand in a missing directory is a UserError', async () => {
  await assert.rejects(runCommand('true', { cwd: path.join(tmpRoot, 'nope'), timeoutMs: 1000 }), UserError);
});

test('a parent killed by SIGTERM does not leave the command group behind', async () => {
  const dir = tempDir('parent');
  const script = path.join(dir, 'parent.mts');
  const moduleUrl = pathToFileURL(path.join(repoRoot, 'src/gates/run-command.ts')).href;
  fs.writeFileSync(
    script,
    `import { runCommand } from ${JSON.stringify(moduleUrl)};\n` +
      `await runCommand('sleep 30 & echo $!; wait', { cwd: ${JSON.stringify(dir)}, timeoutMs: 60000, onOutput: (c) => process.stdout.write(c) });\n`,
  );
  const parent = spawn(process.execPath, ['--import', 'tsx', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    let out = '';
    parent.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    assert.ok(await waitFor(() => /^\d+\n/.test(out), 15_000), 'parent never printed the sleep pid');
    const sleepPid = Number(out.trim());
    assert.ok(isAlive(sleepPid));
    const exited = new Promise((r) => parent.once('exit', r));
    parent.kill('SIGTERM');
    await exited;
    assert.ok(await waitFor(() => !isAlive(sleepPid), 3000), `sleep ${sleepPid} survived its parent`);
  } finally {
    parent.kill('SIGKILL');
  }
});

// ---------- assembleRelease / verifyRelease ----------

function makeApp(): string {
  const app = tempDir('app');
  const write = (rel: string, content: string, mode?: number): void => {
    fs.mkdirSync(path.dirname(path.join(app, rel)), { recursive: true });
    fs.writeFileSync(path.join(app, rel), content);
    if (mode !== undefined) fs.chmodSync(path.join(app, rel), mode);
  };
  write('package.json', '{"name":"fixture"}\n');
  write('server.js', 'console.log("hi")\n', 0o755);
  write('lib/util.js', 'export const x = 1;\n');
  write('node_modules/dep/index.js', 'module.exports = 42;\n');
  write('.git/HEAD', 'ref: refs/heads/main\n');
  write('data/app.db', 'sqlite-bytes');
  fs.symlinkSync('server.js', path.join(app, 'start-link'));
  return app;
}

const releasePath = (app: string, id: string): string => path.join(app, '.ccom', 'releases', id);

test('assembleRelease copies the app, links node_modules and shared paths, writes the manifest beside it', async () => {
  const app = makeApp();
  const releaseDir = releasePath(app, 'r1');
  const result = await assembleRelease({ appDir: app, releaseDir, shared: ['data'] });

  const paths = result.manifest.map((e) => e.path);
  assert.deepEqual(paths, ['lib/util.js', 'node_modules/dep/index.js', 'package.json', 'server.js']);
  assert.equal(result.files, 4);
  assert.equal(result.bytes, result.manifest.reduce((s, e) => s + e.size, 0));
  assert.match(result.digest, /^sha256:[0-9a-f]{64}$/);

  assert.equal(fs.existsSync(path.join(releaseDir, '.git')), false);
  assert.equal(fs.existsSync(path.join(releaseDir, '.ccom')), false);
  const depRel = fs.statSync(path.join(releaseDir, 'node_modules/dep/index.js'));
  const depApp = fs.statSync(path.join(app, 'node_modules/dep/index.js'));
  assert.equal(depRel.ino, depApp.ino, 'node_modules is hard-linked');
  assert.notEqual(fs.statSync(path.join(releaseDir, 'server.js')).ino, fs.statSync(path.join(app, 'server.js')).ino);
  assert.equal(fs.statSync(path.join(releaseDir, 'server.js')).mode & 0o777, 0o755);

  const dataLink = path.join(releaseDir, 'data');
  assert.ok(fs.lstatSync(dataLink).isSymbolicLink());
  assert.equal(fs.readlinkSync(dataLink), path.join(app, 'data'));
  assert.ok(fs.lstatSync(path.join(releaseDir, 'start-link')).isSymbolicLink());
  assert.equal(fs.readlinkSync(path.join(releaseDir, 'start-link')), 'server.js');

  const manifestFile = manifestPathFor(releaseDir);
  assert.equal(manifestFile, path.join(app, '.ccom', 'releases', 'r1.manifest.json'));
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { digest: string; files: unknown[] };
  assert.equal(manifest.digest, result.digest);
  assert.equal(manifest.files.length, 4);
  assert.deepEqual(fs.readdirSync(path.dirname(releaseDir)).sort(), ['r1', 'r1.manifest.json']);
});

test('the digest is stable for the same content and changes with one byte', async () => {
  const app = makeApp();
  const first = await assembleRelease({ appDir: app, releaseDir: releasePath(app, 'a'), shared: ['data'] });
  const same = await assembleRelease({ appDir: app, releaseDir: releasePath(app, 'b'), shared: ['data'] });
  assert.equal(same.digest, first.digest);
  fs.writeFileSync(path.join(app, 'lib/util.js'), 'export const x = 2;\n');
  const changed = await assembleRelease({ appDir: app, releaseDir: releasePath(app, 'c'), shared: ['data'] });
  assert.notEqual(changed.digest, first.digest);
});

test('verifyRelease detects changed, missing and extra files', async () => {
  const app = makeApp();
  const releaseDir = releasePath(app, 'v1');
  await assembleRelease({ appDir: app, releaseDir, shared: ['data'] });
  assert.deepEqual(await verifyRelease(releaseDir), { ok: true, problems: [] });
  fs.writeFileSync(path.join(releaseDir, 'server.js'), 'console.log("tampered")\n');
  fs.rmSync(path.join(releaseDir, 'package.json'));
  fs.writeFileSync(path.join(releaseDir, 'extra.txt'), 'x');
  const verdict = await verifyRelease(releaseDir);
  assert.equal(verdict.ok, false);
  assert.deepEqual(verdict.problems.sort(), ['changed: server.js', 'extra: extra.txt', 'missing: package.json']);
});

test('artifacts mode takes only the listed paths', async () => {
  const app = makeApp();
  const releaseDir = releasePath(app, 'art');
  const result = await assembleRelease({ appDir: app, releaseDir, artifacts: ['lib', 'package.json'], shared: ['data', 'uploads'] });
  assert.deepEqual(result.manifest.map((e) => e.path), ['lib/util.js', 'package.json']);
  assert.deepEqual(fs.readdirSync(releaseDir).sort(), ['data', 'lib', 'package.json', 'uploads']);
  assert.ok(fs.statSync(path.join(app, 'uploads')).isDirectory(), 'missing shared dir is created in the app dir');
  assert.ok(fs.lstatSync(path.join(releaseDir, 'uploads')).isSymbolicLink());
});

test('a missing artifact is a UserError and leaves nothing behind', async () => {
  const app = makeApp();
  const releaseDir = releasePath(app, 'miss');
  await assert.rejects(
    assembleRelease({ appDir: app, releaseDir, artifacts: ['dist', 'package.json'], shared: [] }),
    (err: unknown) => err instanceof UserError && /build artifact dist is missing after the build/.test(err.message) && !!err.fix,
  );
  const releases = path.dirname(releaseDir);
  assert.deepEqual(fs.existsSync(releases) ? fs.readdirSync(releases) : [], []);
});

test('shared paths outside the app and existing releases are refused', async () => {
  const app = makeApp();
  for (const bad of ['../elsewhere', '/etc', '.']) {
    await assert.rejects(assembleRelease({ appDir: app, releaseDir: releasePath(app, 'x'), shared: [bad] }), UserError);
  }
  await assembleRelease({ appDir: app, releaseDir: releasePath(app, 'dup'), shared: [] });
  await assert.rejects(assembleRelease({ appDir: app, releaseDir: releasePath(app, 'dup'), shared: [] }), /already exists/);
});

test('an artifact or shared path that resolves outside the app through a symlink is refused, naming where it points', async () => {
  const app = makeApp();
  const outside = tempDir('outside');
  fs.writeFileSync(path.join(outside, 'passwd'), 'root:x:0:0\n');
  fs.symlinkSync(outside, path.join(app, 'etclink'));
  const cases: Array<{ artifacts?: string[]; shared: string[]; what: RegExp }> = [
    { artifacts: ['etclink/passwd', 'package.json'], shared: [], what: /^build artifact "etclink\/passwd" resolves outside the app directory: etclink\/passwd → / },
    { artifacts: ['etclink'], shared: [], what: /^build artifact "etclink" resolves outside/ },
    { shared: ['etclink'], what: /^shared path "etclink" resolves outside the app directory: etclink → / },
    // Not created yet: judged by the parent mkdir would follow.
    { shared: ['etclink/uploads'], what: /^shared path "etclink\/uploads" resolves outside the app directory: etclink → / },
  ];
  for (const [i, c] of cases.entries()) {
    const releaseDir = releasePath(app, `out-${i}`);
    await assert.rejects(assembleRelease({ appDir: app, releaseDir, artifacts: c.artifacts, shared: c.shared }), (err: unknown) => {
      assert.ok(err instanceof UserError && c.what.test(err.message), String(err));
      assert.ok(err.message.includes(fs.realpathSync(outside)), err.message);
      assert.match(err.fix ?? '', /ships only files inside/);
      return true;
    });
    assert.ok(!fs.existsSync(releaseDir), 'nothing assembled');
  }
  assert.ok(!fs.existsSync(path.join(outside, 'uploads')), 'no directory was created outside the app');
});

test('a symlink inside the app tree is copied as a link, never followed: what it points to stays out of the release', async () => {
  const app = makeApp();
  const outside = tempDir('outside');
  fs.writeFileSync(path.join(outside, 'secret'), 'top secret\n');
  fs.symlinkSync(outside, path.join(app, 'lib', 'elsewhere'));
  const releaseDir = releasePath(app, 'links');
  const result = await assembleRelease({ appDir: app, releaseDir, artifacts: ['lib'], shared: [] });
  assert.ok(fs.lstatSync(path.join(releaseDir, 'lib', 'elsewhere')).isSymbolicLink());
  assert.deepEqual(result.manifest.map((e) => e.path), ['lib/util.js'], 'the outside file is not part of the release');
});

// ---------- env ----------

test('loadEnvFile parses the file and lists missing names without values', () => {
  const app = tempDir('env');
  fs.writeFileSync(path.join(app, '.env.production'), '# comment\nAPI_KEY=s3cret-value\nNAME="two words"\nEMPTY=\n');
  const loaded = loadEnvFile(app, { file: '.env.production', required: ['API_KEY', 'FROM_PROCESS', 'ABSENT', 'EMPTY'] }, {
    FROM_PROCESS: 'yes',
  });
  assert.equal(loaded.vars.API_KEY, 's3cret-value');
  assert.equal(loaded.vars.NAME, 'two words');
  assert.deepEqual(loaded.missing, ['ABSENT', 'EMPTY']);
  assert.equal(loaded.file, path.join(app, '.env.production'));
  assert.ok(!JSON.stringify(loaded.missing).includes('s3cret'));
});

test('loadEnvFile with a missing file is a UserError naming it', () => {
  const app = tempDir('env-missing');
  assert.throws(
    () => loadEnvFile(app, { file: '.env.production', required: [] }),
    (err: unknown) => err instanceof UserError && err.message.includes('.env.production') && !!err.fix,
  );
  assert.deepEqual(loadEnvFile(app, { required: ['X'] }, {}), { vars: {}, missing: ['X'] });
});

// ---------- port & disk ----------

test('isPortFree, findFreePort and describePortOwner see a real listener', async () => {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  try {
    assert.equal(await isPortFree('127.0.0.1', port), false);
    assert.match(describePortOwner(port) ?? '', new RegExp(`^pid ${process.pid}\\b`));
  } finally {
    await new Promise((r) => server.close(r));
  }
  assert.equal(await isPortFree('127.0.0.1', port), true);
  assert.equal(describePortOwner(port), undefined);
  const free = await findFreePort();
  assert.ok(free > 0);
  assert.equal(await isPortFree('127.0.0.1', free), true);
});

test('freeBytes measures the disk, also for a directory not created yet', async () => {
  assert.ok((await freeBytes(tmpRoot)) > 0);
  assert.ok((await freeBytes(path.join(tmpRoot, 'not', 'yet'))) > 0);
});
