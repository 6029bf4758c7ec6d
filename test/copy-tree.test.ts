import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { linkOrCopyTree } from '../src/targets/local/copy-tree.js';

/** A small state tree: a release with an executable file, a symlink (a `shared:` path), a log. */
function makeTree(root: string): string {
  const from = join(root, 'from');
  mkdirSync(join(from, 'releases', 'r1'), { recursive: true });
  writeFileSync(join(from, 'releases', 'r1', 'server.js'), 'console.log(1)\n');
  chmodSync(join(from, 'releases', 'r1', 'server.js'), 0o755);
  symlinkSync('/srv/app/data', join(from, 'releases', 'r1', 'data'));
  mkdirSync(join(from, 'logs'), { mode: 0o700 });
  writeFileSync(join(from, 'logs', 'agent.log'), 'ready\n');
  return from;
}

test('on one file system the state is hard-linked: a log still being written stays one file', () => {
  const root = mkdtempSync(join(tmpdir(), 'ccom-copy-tree-'));
  try {
    const from = makeTree(root);
    assert.equal(linkOrCopyTree(from, join(root, 'to')), true);
    assert.equal(statSync(join(root, 'to', 'logs', 'agent.log')).ino, statSync(join(from, 'logs', 'agent.log')).ino);
    assert.equal(readlinkSync(join(root, 'to', 'releases', 'r1', 'data')), '/srv/app/data');
    assert.equal(statSync(join(root, 'to', 'logs')).mode & 0o777, 0o700);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

const otherFs = existsSync('/dev/shm') && statSync('/dev/shm').dev !== statSync(tmpdir()).dev;

test('across file systems (EXDEV) it copies, keeping modes and symlinks', { skip: otherFs ? false : 'no second file system (/dev/shm) to copy to' }, () => {
  const root = mkdtempSync(join(tmpdir(), 'ccom-copy-tree-'));
  const target = mkdtempSync(join('/dev/shm', 'ccom-copy-tree-'));
  try {
    const from = makeTree(root);
    const to = join(target, 'to');
    assert.equal(linkOrCopyTree(from, to), false, 'nothing could be linked');
    assert.notEqual(statSync(join(to, 'logs', 'agent.log')).ino, statSync(join(from, 'logs', 'agent.log')).ino);
    assert.equal(readFileSync(join(to, 'releases', 'r1', 'server.js'), 'utf8'), 'console.log(1)\n');
    assert.equal(statSync(join(to, 'releases', 'r1', 'server.js')).mode & 0o777, 0o755);
    assert.ok(lstatSync(join(to, 'releases', 'r1', 'data')).isSymbolicLink());
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(target, { recursive: true, force: true });
  }
});
