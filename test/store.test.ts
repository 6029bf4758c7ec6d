import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { SCHEMA_VERSION, Store, type DeploymentRow, type LockResult, type ReleaseRow } from '../src/store/index.js';
import { UserError } from '../src/errors.js';

const STORE_MODULE = fileURLToPath(new URL('../src/store/index.ts', import.meta.url));

// State goes under CCOM_HOME (inherited by the child processes below), keyed by the app's name.
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ccom-store-home-'));
process.env.CCOM_HOME = home;
process.once('exit', () => fs.rmSync(home, { recursive: true, force: true }));

function tempApp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccom-store-'));
  fs.writeFileSync(path.join(dir, 'ccom.yaml'), `app: ${path.basename(dir).toLowerCase().replace(/[^a-z0-9-]/g, '-')}\nstart: node server.js\n`);
  return dir;
}

/** Opens a Store on a fresh temp app dir and removes everything when the test ends. */
function withStore(t: { after: (fn: () => void) => void }, appDir = tempApp()): { store: Store; appDir: string } {
  const store = Store.open(appDir);
  t.after(() => {
    store.close();
    fs.rmSync(appDir, { recursive: true, force: true });
  });
  return { store, appDir };
}

function release(id: string, createdAt: string): ReleaseRow {
  return {
    id, createdAt, status: 'pending', strategy: 'blue-green', digest: `sha256:${id}`, deployedBy: 'alice',
    dir: `/tmp/releases/${id}`, startCommand: 'node server.js', configJson: '{"app":"shop"}',
  };
}

function deployment(id: string, startedAt: string): DeploymentRow {
  return {
    id, app: 'shop', release: null, previous: null, strategy: 'blue-green', status: 'running', reason: null,
    url: null, startedAt, finishedAt: null, durationMs: null, deployedBy: 'alice', kind: 'deploy',
  };
}

const lockRequest = (pid: number, deploymentId = 'd1') =>
  ({ pid, host: os.hostname(), who: 'alice', deploymentId, command: 'ccom deploy' });

/** A real process that stays alive until killed. */
async function sleeper(t: { after: (fn: () => void) => void }): Promise<ChildProcess & { pid: number }> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  t.after(() => { child.kill('SIGKILL'); });
  await once(child, 'spawn');
  return child as ChildProcess & { pid: number };
}

test('opening creates the state dir (0700) under CCOM_HOME with a WAL database at the current schema version', (t) => {
  const { store, appDir } = withStore(t);
  const stateDir = path.join(home, 'apps', path.basename(appDir).toLowerCase().replace(/[^a-z0-9-]/g, '-'));
  assert.deepEqual(fs.readdirSync(appDir), ['ccom.yaml'], 'nothing is written into the app directory');
  assert.equal(fs.statSync(stateDir).mode & 0o777, 0o700);
  assert.equal(store.file, path.join(stateDir, 'state.db'));
  const raw = new Database(store.file, { readonly: true });
  try {
    assert.equal(raw.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.ok(SCHEMA_VERSION >= 1);
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  } finally {
    raw.close();
  }
});

test('a database from a newer ccom is refused with a UserError', (t) => {
  const { store, appDir } = withStore(t);
  const raw = new Database(store.file);
  raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  raw.close();
  assert.throws(() => Store.open(appDir), (err) => err instanceof UserError && /newer/.test(err.message));
});

test('a missing app directory is a UserError', () => {
  const missing = path.join(os.tmpdir(), `ccom-missing-${process.pid}-${Date.now()}`);
  assert.throws(() => Store.open(missing), UserError);
  assert.equal(fs.existsSync(missing), false);
});

test('release lifecycle: markLive across three releases', (t) => {
  const { store } = withStore(t);
  store.insertRelease(release('r1', '2024-01-01T00:00:00.000Z'));
  store.insertRelease(release('r2', '2024-01-02T00:00:00.000Z'));
  store.insertRelease(release('r3', '2024-01-03T00:00:00.000Z'));
  assert.deepEqual(store.getRelease('r2'), release('r2', '2024-01-02T00:00:00.000Z'));
  assert.deepEqual(store.listReleases().map((r) => r.id), ['r3', 'r2', 'r1']);
  assert.equal(store.liveRelease(), undefined);
  assert.equal(store.previousRelease(), undefined);

  const statuses = () => Object.fromEntries(store.listReleases().map((r) => [r.id, r.status]));
  store.markLive('r1');
  assert.deepEqual(statuses(), { r1: 'live', r2: 'pending', r3: 'pending' });
  store.markLive('r2');
  assert.deepEqual(statuses(), { r1: 'previous', r2: 'live', r3: 'pending' });
  assert.equal(store.previousRelease()?.id, 'r1');
  store.markLive('r3');
  assert.deepEqual(statuses(), { r1: 'retired', r2: 'previous', r3: 'live' });
  assert.equal(store.liveRelease()?.id, 'r3');
  assert.equal(store.previousRelease()?.id, 'r2');

  // A named rollback to the oldest: the release live just before it is the next rollback target.
  store.markLive('r1');
  assert.deepEqual(statuses(), { r1: 'live', r2: 'retired', r3: 'previous' });
  store.setReleaseStatus('r3', 'rolled_back');
  assert.equal(store.previousRelease()?.id, 'r2');
  assert.throws(() => store.markLive('nope'));
  assert.equal(store.liveRelease()?.id, 'r1', 'a failed markLive changes nothing');
});

test('releases created in the same instant list in insertion order, newest first', (t) => {
  const { store } = withStore(t);
  for (const id of ['a', 'b', 'c']) store.insertRelease(release(id, '2024-01-01T00:00:00.000Z'));
  assert.deepEqual(store.listReleases().map((r) => r.id), ['c', 'b', 'a']);
});

test('deployment and steps round-trip', (t) => {
  const { store } = withStore(t);
  store.insertDeployment(deployment('d1', '2024-01-01T00:00:00.000Z'));
  store.insertDeployment(deployment('d2', '2024-01-02T00:00:00.000Z'));
  store.addStep('d2', { name: 'gate:test', status: 'running', startedAt: '2024-01-02T00:00:01.000Z', durationMs: 0, message: null });
  store.addStep('d2', { name: 'analysis', status: 'passed', startedAt: '2024-01-02T00:00:02.000Z', durationMs: 5, message: '10%' });
  store.addStep('d2', { name: 'analysis', status: 'running', startedAt: '2024-01-02T00:00:03.000Z', durationMs: 0, message: null });
  store.updateStep('d2', 'gate:test', { status: 'passed', durationMs: 1200 });
  store.updateStep('d2', 'analysis', { status: 'failed', message: 'error rate 3% > 1%' });
  assert.equal(store.runningDeployment()?.id, 'd2');

  store.updateDeployment('d2', {
    status: 'rolled_back', reason: 'error rate', release: 'r2', finishedAt: '2024-01-02T00:01:00.000Z',
    durationMs: 60000, url: undefined,
  });
  const got = store.getDeployment('d2');
  assert.deepEqual(got, {
    ...deployment('d2', '2024-01-02T00:00:00.000Z'),
    status: 'rolled_back', reason: 'error rate', release: 'r2', finishedAt: '2024-01-02T00:01:00.000Z', durationMs: 60000,
    steps: [
      { name: 'gate:test', status: 'passed', startedAt: '2024-01-02T00:00:01.000Z', durationMs: 1200, message: null },
      { name: 'analysis', status: 'passed', startedAt: '2024-01-02T00:00:02.000Z', durationMs: 5, message: '10%' },
      { name: 'analysis', status: 'failed', startedAt: '2024-01-02T00:00:03.000Z', durationMs: 0, message: 'error rate 3% > 1%' },
    ],
  });
  assert.equal(store.runningDeployment()?.id, 'd1');
  assert.deepEqual(store.listDeployments(10).map((d) => d.id), ['d2', 'd1']);
  assert.deepEqual(store.listDeployments(1).map((d) => d.id), ['d2']);
  assert.equal(store.getDeployment('nope'), undefined);
  assert.throws(() => store.updateStep('d2', 'nope', { status: 'passed' }));
  assert.throws(() => store.updateDeployment('nope', { status: 'failed' }));
  assert.throws(() => store.addStep('nope', { name: 'x', status: 'passed', startedAt: 'now', durationMs: 0, message: null }),
    /FOREIGN KEY/, 'foreign keys are enforced');
});

test('audit lists newest first with structured detail', (t) => {
  const { store } = withStore(t);
  store.audit('alice', 'deploy', { release: 'r1' });
  store.audit('bob', 'rollback', { to: 'r0', nested: { n: 1 } });
  const entries = store.listAudit(10);
  assert.deepEqual(entries.map(({ who, action, detail }) => ({ who, action, detail })), [
    { who: 'bob', action: 'rollback', detail: { to: 'r0', nested: { n: 1 } } },
    { who: 'alice', action: 'deploy', detail: { release: 'r1' } },
  ]);
  assert.ok(!Number.isNaN(Date.parse(entries[0]?.at ?? '')));
  assert.equal(store.listAudit(1).length, 1);
});

test('lock: a second acquirer is refused while the holder is alive; same pid re-enters', async (t) => {
  const { store } = withStore(t);
  const holder = await sleeper(t);
  assert.deepEqual(store.acquireLock(lockRequest(holder.pid, 'd1')), { ok: true });
  assert.deepEqual(store.acquireLock(lockRequest(holder.pid, 'd1')), { ok: true }, 're-entrant');

  const refused = store.acquireLock(lockRequest(process.pid, 'd2'));
  assert.equal(refused.ok, false);
  assert.ok(!refused.ok);
  assert.equal(refused.holder.pid, holder.pid);
  assert.equal(refused.holder.deploymentId, 'd1');
  assert.equal(refused.holder.command, 'ccom deploy');
  assert.ok(!Number.isNaN(Date.parse(refused.holder.since)));

  assert.equal(store.releaseLock(process.pid), false, 'a non-holder cannot release');
  assert.equal(store.lockHolder()?.pid, holder.pid);
  assert.equal(store.releaseLock(holder.pid), true);
  assert.equal(store.lockHolder(), undefined);
  assert.deepEqual(store.acquireLock(lockRequest(process.pid, 'd2')), { ok: true });
});

test('lock: a holder whose pid is dead is taken over and audited', async (t) => {
  const { store } = withStore(t);
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await once(child, 'exit');
  const deadPid = child.pid;
  assert.ok(deadPid);
  assert.deepEqual(store.acquireLock(lockRequest(deadPid, 'd1')), { ok: true });

  const result = store.acquireLock(lockRequest(process.pid, 'd2'));
  assert.ok(result.ok);
  assert.equal(result.tookOverFrom?.pid, deadPid);
  assert.equal(result.tookOverFrom?.deploymentId, 'd1');
  assert.equal(store.lockHolder()?.pid, process.pid);
  const [entry] = store.listAudit(1);
  assert.equal(entry?.action, 'lock.takeover');
  assert.equal((entry?.detail.from as { pid: number }).pid, deadPid);
});

test('lock: a holder on another host is never presumed dead', (t) => {
  const { store } = withStore(t);
  const deadHere = 2 ** 22 + 12345; // above pid_max on Linux: no such process here
  assert.deepEqual(store.acquireLock({ ...lockRequest(deadHere), host: 'elsewhere.example' }), { ok: true });
  const result = store.acquireLock(lockRequest(process.pid, 'd2'));
  assert.equal(result.ok, false);
});

/** Child processes race for the lock on one file; each keeps its pid alive until stdin closes. */
async function raceForLock(appDir: string, racers: number): Promise<{ pid: number; result: LockResult }[]> {
  const script = `
    import { createInterface } from 'node:readline';
    import { Store } from ${JSON.stringify(pathToFileURL(STORE_MODULE).href)};
    import os from 'node:os';
    const store = Store.open(${JSON.stringify(appDir)});
    console.log('ready');
    const lines = createInterface({ input: process.stdin });
    for await (const _ of lines) {
      const result = store.acquireLock({ pid: process.pid, host: os.hostname(), who: 'racer', deploymentId: String(process.pid), command: 'race' });
      console.log(JSON.stringify(result));
    }
    store.close();
  `;
  const children = Array.from({ length: racers }, () =>
    spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] }));
  try {
    const outputs = children.map((c) => createInterface({ input: c.stdout! })[Symbol.asyncIterator]());
    for (const out of outputs) assert.equal((await out.next()).value, 'ready');
    for (const c of children) c.stdin!.write('go\n');
    const results = [];
    for (const [i, out] of outputs.entries()) {
      const line = (await out.next()).value as string;
      results.push({ pid: children[i]!.pid!, result: JSON.parse(line) as LockResult });
    }
    return results;
  } finally {
    for (const c of children) c.stdin!.end();
    await Promise.all(children.map((c) => (c.exitCode === null ? once(c, 'exit') : undefined)));
  }
}

test('lock: processes racing for it get exactly one winner', async (t) => {
  const { appDir } = withStore(t);
  const results = await raceForLock(appDir, 4);
  const winners = results.filter((r) => r.result.ok);
  assert.equal(winners.length, 1, JSON.stringify(results));
  for (const r of results) {
    if (!r.result.ok) assert.equal(r.result.holder.pid, winners[0]?.pid);
  }
});

test('two Store instances on one file (CLI + agent) see each other\'s writes', (t) => {
  const { store: cli, appDir } = withStore(t);
  const agent = Store.open(appDir);
  t.after(() => agent.close());

  agent.setSetting('publicPort', '8080');
  assert.equal(cli.getSetting('publicPort'), '8080');
  cli.setSetting('publicPort', '8081');
  assert.equal(agent.getSetting('publicPort'), '8081');
  assert.equal(agent.getSetting('missing'), undefined);

  cli.insertRelease(release('r1', '2024-01-01T00:00:00.000Z'));
  cli.markLive('r1');
  assert.equal(agent.liveRelease()?.id, 'r1');
  assert.deepEqual(cli.acquireLock(lockRequest(process.pid)), { ok: true });
  assert.equal(agent.lockHolder()?.pid, process.pid);
});

test('reopening the database keeps everything', (t) => {
  const appDir = tempApp();
  t.after(() => fs.rmSync(appDir, { recursive: true, force: true }));
  const first = Store.open(appDir);
  first.insertRelease(release('r1', '2024-01-01T00:00:00.000Z'));
  first.markLive('r1');
  first.insertDeployment(deployment('d1', '2024-01-01T00:00:00.000Z'));
  first.addStep('d1', { name: 'build', status: 'passed', startedAt: 't', durationMs: 3, message: null });
  first.audit('alice', 'deploy', { release: 'r1' });
  first.acquireLock(lockRequest(process.pid));
  first.setSetting('publicPort', '8080');
  first.close();
  first.close(); // closing twice is harmless

  const second = Store.open(appDir);
  t.after(() => second.close());
  assert.equal(second.liveRelease()?.id, 'r1');
  assert.deepEqual(second.getDeployment('d1')?.steps.map((s) => s.name), ['build']);
  assert.equal(second.listAudit(10)[0]?.action, 'deploy');
  assert.equal(second.lockHolder()?.pid, process.pid);
  assert.equal(second.getSetting('publicPort'), '8080');
});

test('pruning keeps the live release and the newest good ones; failed and rolled-back ones go first', async (t) => {
  const { pruneReleases } = await import('../src/pipeline/prune.js');
  const { store } = withStore(t);
  const releasesRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'ccom-prune-'));
  t.after(() => fs.rmSync(releasesRoot, { recursive: true, force: true }));
  // Oldest first: g = good (was live), f = failed canary, r = rolled back.
  const plan: Array<[string, 'good' | 'failed' | 'rolled_back']> = [
    ['g1', 'good'], ['g2', 'good'], ['f1', 'failed'], ['g3', 'good'], ['r1', 'rolled_back'], ['g4', 'good'], ['f2', 'failed'], ['g5', 'good'],
  ];
  plan.forEach(([id], i) => {
    const dir = path.join(releasesRoot, id);
    fs.mkdirSync(dir);
    store.insertRelease({ ...release(id, `2024-01-0${i + 1}T00:00:00.000Z`), dir });
  });
  for (const [id, kind] of plan) {
    if (kind === 'good') store.markLive(id);
    else store.setReleaseStatus(id, kind);
  }
  pruneReleases(store, 2);
  const onDisk = plan.map(([id]) => id).filter((id) => fs.existsSync(path.join(releasesRoot, id)));
  // g5 is live; g4 and g3 are the 2 newest good ones besides it (g4 is also the rollback target).
  assert.deepEqual(onDisk, ['g3', 'g4', 'g5']);
  assert.equal(store.listReleases().length, plan.length, 'history rows stay');
});
