import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gitInfo } from '../src/pipeline/git-info.js';
import { Store } from '../src/store/index.js';
import { runCcom } from './helpers/ccom.js';
import { fixtureApp, type FixtureApp } from './helpers/fixture-app.js';

const apps: FixtureApp[] = [];
after(async () => {
  for (const app of apps) await app.cleanup();
});

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.email=dev@example.com', '-c', 'user.name=dev', ...args], { cwd: dir, encoding: 'utf8' }).trim();
}

test('a release records the git commit, branch, dirty flag and subject; `releases` shows them', async () => {
  const app = fixtureApp();
  apps.push(app);
  assert.equal(gitInfo(app.dir), null, 'not a repository yet');
  git(app.dir, 'init', '-q', '-b', 'main');
  assert.equal(gitInfo(app.dir), null, 'a repository without a commit');
  git(app.dir, 'add', '-A');
  git(app.dir, 'commit', '-qm', 'Fix the checkout total');
  const commit = git(app.dir, 'rev-parse', 'HEAD');
  const clean = gitInfo(app.dir);
  assert.deepEqual(clean, { commit, branch: 'main', dirty: false, subject: 'Fix the checkout total' });
  appendFileSync(join(app.dir, 'server.js'), '\n// uncommitted\n');
  assert.equal(gitInfo(app.dir)?.dirty, true, 'a changed tracked file');
  git(app.dir, 'checkout', '-q', '--detach');
  assert.equal(gitInfo(app.dir)?.branch, null, 'detached HEAD');

  // Through history (a real SQLite file) to `ccom releases`, as the deploy records it.
  const store = Store.open(app.dir);
  const row = { createdAt: new Date(Date.now() - 90_000).toISOString(), status: 'previous' as const, strategy: 'blue-green', digest: 'sha256:ab', deployedBy: 'dev', dir: app.dir, startCommand: 'node server.js', configJson: '{}' };
  store.insertRelease({ ...row, id: 'r-old' });
  store.insertRelease({ ...row, id: 'r-new', createdAt: new Date().toISOString(), status: 'live', git: gitInfo(app.dir) });
  store.close();
  const json = await runCcom(['releases', '-C', app.dir, '--json']);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(json.json.releases.map((r: { git: unknown }) => r.git), [{ commit, branch: null, dirty: true, subject: 'Fix the checkout total' }, null]);
  const human = await runCcom(['releases', '-C', app.dir]);
  assert.match(human.stderr, /^ {2}RELEASE\s+STATUS\s+STRATEGY\s+DIGEST\s+CREATED\s+BY\s+FILES\s+CODE$/m);
  assert.match(human.stderr, new RegExp(`^● r-new\\s+live\\s.*\\s\\d+s ago\\s.*${commit.slice(0, 7)} \\(detached\\)\\* Fix the checkout total$`, 'm'));
  assert.match(human.stderr, /^ {2}r-old\s+previous\s.*\s\d+m ago\s.*\s-$/m);
});

test('a monorepo app is dirty only for changes in its own directory', () => {
  const repo = mkdtempSync(join(tmpdir(), 'ccom-mono-'));
  try {
    execFileSync('mkdir', ['-p', join(repo, 'shop'), join(repo, 'blog')]);
    appendFileSync(join(repo, 'shop', 'a.js'), 'a');
    appendFileSync(join(repo, 'blog', 'b.js'), 'b');
    git(repo, 'init', '-q', '-b', 'trunk');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'two apps');
    appendFileSync(join(repo, 'blog', 'b.js'), 'changed');
    assert.equal(gitInfo(join(repo, 'shop'))?.dirty, false);
    assert.equal(gitInfo(join(repo, 'blog'))?.dirty, true);
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
});
