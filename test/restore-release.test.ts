import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assembleRelease } from '../src/gates/release.js';
import { restoreRelease } from '../src/gates/restore-release.js';

// Real files on disk: a release assembled by ccom, then changed the ways apps and people change them.
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'ccom-restore-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

async function builtRelease(name: string): Promise<{ app: string; releases: string; dir: string }> {
  const app = fs.mkdtempSync(path.join(tmpRoot, `${name}-app-`));
  const releases = fs.mkdtempSync(path.join(tmpRoot, `${name}-releases-`));
  const write = (rel: string, content: string) => {
    fs.mkdirSync(path.dirname(path.join(app, rel)), { recursive: true });
    fs.writeFileSync(path.join(app, rel), content);
  };
  write('package.json', '{"name":"shop"}\n');
  write('.next/server/app/index.html', '<h1>built page</h1>\n');
  write('.next/BUILD_ID', 'build-1\n');
  write('data/app.db', 'the users data');
  const dir = path.join(releases, 'r1');
  await assembleRelease({ appDir: app, releaseDir: dir, shared: ['data'] });
  return { app, releases, dir };
}

test('files an app writes at runtime into its build output do not count against the release', async () => {
  const { app, dir } = await builtRelease('runtime');
  // What `next start` does on its first request.
  fs.mkdirSync(path.join(dir, '.next/server/route-cache'), { recursive: true });
  fs.writeFileSync(path.join(dir, '.next/server/route-cache/index.json'), '{"cached":true}');
  const result = await restoreRelease(dir, { sources: [app], shared: ['data'] });
  assert.deepEqual(result.unrestorable, []);
  assert.deepEqual(result.restored, []);
  assert.equal(result.runtimeFiles, 1);
  assert.equal(fs.readFileSync(path.join(dir, '.next/server/route-cache/index.json'), 'utf8'), '{"cached":true}', 'the app’s own file is kept');
});

test('a changed or removed built file is put back from a copy with the same content', async () => {
  const { app, dir } = await builtRelease('changed');
  fs.writeFileSync(path.join(dir, '.next/server/app/index.html'), '<h1>rewritten at runtime</h1>\n');
  fs.rmSync(path.join(dir, '.next/BUILD_ID'));
  fs.chmodSync(path.join(dir, 'package.json'), 0o600);
  const result = await restoreRelease(dir, { sources: [path.join(tmpRoot, 'nowhere'), app], shared: ['data'] });
  assert.deepEqual(result.unrestorable, []);
  assert.deepEqual(result.restored.sort(), ['.next/BUILD_ID', '.next/server/app/index.html']);
  assert.deepEqual(result.modesFixed, ['package.json']);
  assert.equal(fs.readFileSync(path.join(dir, '.next/server/app/index.html'), 'utf8'), '<h1>built page</h1>\n');
  assert.equal(fs.readFileSync(path.join(dir, '.next/BUILD_ID'), 'utf8'), 'build-1\n');
  assert.equal(fs.statSync(path.join(dir, 'package.json')).mode & 0o777, fs.statSync(path.join(app, 'package.json')).mode & 0o777);
});

test('a built file whose content exists nowhere any more is named, and the release is refused', async () => {
  const { app, dir } = await builtRelease('lost');
  fs.writeFileSync(path.join(app, '.next/BUILD_ID'), 'build-2\n'); // the app dir moved on
  fs.writeFileSync(path.join(dir, '.next/BUILD_ID'), 'tampered\n');
  const result = await restoreRelease(dir, { sources: [app], shared: ['data'] });
  assert.deepEqual(result.unrestorable, ['.next/BUILD_ID']);
  assert.equal(fs.readFileSync(path.join(dir, '.next/BUILD_ID'), 'utf8'), 'tampered\n', 'nothing is made up');
});

test('shared paths are never touched, and a broken manifest is reported', async () => {
  const { app, dir } = await builtRelease('shared');
  fs.writeFileSync(path.join(app, 'data/app.db'), 'users wrote more');
  const result = await restoreRelease(dir, { sources: [app], shared: ['data'] });
  assert.equal(result.runtimeFiles, 0);
  assert.equal(fs.readFileSync(path.join(app, 'data/app.db'), 'utf8'), 'users wrote more');
  const manifest = `${dir}.manifest.json`;
  const doc = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { digest: string };
  fs.writeFileSync(manifest, JSON.stringify({ ...doc, digest: 'sha256:0' }));
  assert.match((await restoreRelease(dir, { sources: [app], shared: ['data'] })).manifestProblem ?? '', /does not match its own digest/);
});
