import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Store } from '../src/store/index.js';
import { fixtureApp, type FixtureApp } from './helpers/fixture-app.js';
import { get, runCcom, type CcomRun } from './helpers/ccom.js';
import { deadPid, occupyPort, pollUrl, releaseDirs, releaseIds, startCcom, writeConfig, type Sample } from './helpers/failure-tools.js';

const BLOCKED_LINE = /^❌ Deployment blocked - /m;
const ROLLBACK_LINE = /^⚡ Rolling back to ensure stability - your app is safe\.$/m;

/** `ccom deploy --json` on the app; returns the run and its deployment document. */
async function deploy(app: FixtureApp, ...flags: string[]) {
  const run = await runCcom(['deploy', '-C', app.dir, '--json', ...flags]);
  assert.ok(run.json?.deployment, `deploy printed no JSON document:\n${run.stdout}\n${run.stderr}`);
  return { run, doc: run.json.deployment };
}

async function statusOf(app: FixtureApp) {
  const r = await runCcom(['status', '-C', app.dir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return r.json;
}

describe('failed deploys leave the live release serving', () => {
  let app: FixtureApp;
  let url: string;
  let v1: string;

  /** The version users get now, asserted through the public URL. */
  async function assertServes(version: string) {
    const res = await get(url);
    assert.deepEqual(res, { status: 200, body: `ok ${version}` });
  }

  before(async () => {
    app = fixtureApp('v1');
    const { run, doc } = await deploy(app);
    assert.equal(run.code, 0, run.stderr);
    url = doc.url;
    v1 = doc.release;
    await assertServes('v1');
  });
  after(() => app.cleanup());

  it('a failing gate blocks (exit 2), shows its output, and records no release', async () => {
    const before = await releaseIds(app.dir);
    app.write('v2');
    // The output is assembled by printf, so seeing it proves the gate's output is shown (not the command echoed).
    writeConfig(app, [], 'gates:\n  - name: test\n    run: "printf \'%s tests failed\\n\' 3of12; exit 3"\n');
    const { run, doc } = await deploy(app);
    assert.equal(run.code, 2);
    assert.equal(doc.status, 'blocked');
    assert.match(doc.reason, /gate "test"/);
    assert.match(doc.reason, /code 3\b/);
    assert.match(run.stderr, BLOCKED_LINE);
    assert.match(run.stderr, /3of12 tests failed/);
    assert.doesNotMatch(run.stderr, /^\s+at /m);
    await assertServes('v1');
    assert.deepEqual(await releaseIds(app.dir), before);
    assert.deepEqual(releaseDirs(app.dir).sort(), before.sort());
  });

  it('a gate that runs past its timeout blocks, naming the timeout', async () => {
    writeConfig(app, [], 'gates:\n  - name: slow\n    run: sleep 30\n    timeout: 1s\n');
    const { run, doc } = await deploy(app);
    assert.equal(run.code, 2);
    assert.equal(doc.status, 'blocked');
    assert.match(doc.reason, /gate "slow"/);
    assert.match(doc.reason, /timed out after 1(\.0)?s/);
    assert.match(run.stderr, BLOCKED_LINE);
    await assertServes('v1');
  });

  let crash: CcomRun;
  let crashRelease: string;
  it('a release that crashes on boot is rolled back (exit 1) and v1 keeps serving', async () => {
    app.config();
    app.write('v2', 'crash-on-boot');
    const { run, doc } = await deploy(app);
    crash = run;
    crashRelease = doc.release;
    assert.equal(run.code, 1, run.stderr);
    assert.equal(doc.status, 'rolled_back');
    assert.equal(doc.previous, v1);
    assert.match(doc.reason, /crashed on boot/);
    assert.match(doc.reason, /code 1\b/);
    assert.match(run.stderr, ROLLBACK_LINE);
    await assertServes('v1');

    const status = await statusOf(app);
    assert.equal(status.live, v1);
    assert.deepEqual(status.releases.map((r: { id: string }) => r.id), [v1]);
    assert.equal(status.releases[0].weight, 100);
    assert.equal(status.releases[0].instances.length, 2);
    assert.ok(status.releases[0].instances.every((i: { healthy: boolean }) => i.healthy));

    const releases = (await runCcom(['releases', '-C', app.dir, '--json'])).json.releases;
    assert.deepEqual(releases.find((r: { id: string }) => r.id === crashRelease)?.status, 'rolled_back');
    assert.deepEqual(releases.find((r: { id: string }) => r.id === v1)?.status, 'live');
  });

  it("the crashed instance's own output is shown on stderr", () => {
    assert.ok(crash, 'the crash-on-boot deploy did not run');
    assert.match(crash.stderr, /boom: cannot connect/);
  });

  it('a release that never becomes healthy is rolled back, naming the health check and what it saw', async () => {
    writeConfig(app, [['  timeout: 5s', '  timeout: 2s']]);
    app.write('v2', 'never-healthy');
    const { run, doc } = await deploy(app);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(doc.status, 'rolled_back');
    assert.match(doc.reason, /\/healthz/);
    assert.match(doc.reason, /503/);
    assert.match(run.stderr, ROLLBACK_LINE);
    await assertServes('v1');
  });

  it('a healthy release failing its smoke test is rolled back before any user sees it', async () => {
    app.config();
    app.write('v2', 'broken-page');
    const poller = pollUrl(url, 20);
    let samples: Sample[] = [];
    let result: Awaited<ReturnType<typeof deploy>>;
    try {
      result = await deploy(app);
    } finally {
      samples = await poller.stop();
    }
    const { run, doc } = result;
    assert.equal(run.code, 1, run.stderr);
    assert.equal(doc.status, 'rolled_back');
    assert.match(doc.reason, /smoke test/);
    assert.match(doc.reason, /\b500\b/);
    assert.ok(samples.length >= 10, `only ${samples.length} requests were sent during the deploy`);
    const seenV2 = samples.filter((s) => ('status' in s && s.status === 500) || ('body' in s && s.body.includes('internal error')));
    assert.deepEqual(seenV2, [], 'users saw the broken release');
    const notV1 = samples.filter((s) => !('status' in s) || s.status !== 200 || s.body !== 'ok v1');
    assert.deepEqual(notV1, [], 'the public URL did not serve v1 throughout the deploy');
    await assertServes('v1');
  });

  it('--dry-run validates, starts nothing and leaves no release behind', async () => {
    app.write('v2');
    const { run, doc } = await deploy(app, '--dry-run');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(doc.status, 'succeeded');
    assert.ok(doc.release);
    const status = await statusOf(app);
    assert.equal(status.live, v1);
    assert.deepEqual(status.releases.map((r: { id: string }) => r.id), [v1]);
    const known = await releaseIds(app.dir);
    assert.ok(!known.includes(doc.release), 'the dry run was recorded as a release');
    assert.ok(!existsSync(join(app.state, 'releases', doc.release)), 'the dry run left its release directory');
    for (const d of releaseDirs(app.dir)) assert.ok(known.includes(d), `unexpected release dir ${d}`);
    await assertServes('v1');
  });

  it('a gate with required: false that fails only warns, and the deploy succeeds', async () => {
    writeConfig(app, [], 'gates:\n  - name: lint\n    run: exit 4\n    required: false\n');
    app.write('v2');
    const { run, doc } = await deploy(app);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(doc.status, 'succeeded');
    const gate = doc.steps.find((s: { name: string }) => s.name === 'gate:lint');
    assert.equal(gate?.status, 'warned');
    assert.match(gate?.message ?? '', /code 4\b/);
    await assertServes('v2');
  });

  it('--strategy recreate redeploys, saying it has downtime', async () => {
    app.config();
    app.write('v3');
    const { run, doc } = await deploy(app, '--strategy', 'recreate');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(doc.status, 'succeeded');
    assert.equal(doc.strategy, 'recreate');
    assert.match(run.stderr, /downtime|is down/i);
    await assertServes('v3');
  });

  it('a recreate of a release that crashes on boot rolls back and the previous release serves again', async () => {
    app.write('v4', 'crash-on-boot');
    const { run, doc } = await deploy(app, '--strategy', 'recreate');
    assert.equal(run.code, 1, run.stderr);
    assert.equal(doc.status, 'rolled_back');
    assert.match(doc.reason, /crashed on boot/);
    assert.match(run.stderr, ROLLBACK_LINE);
    await assertServes('v3');
  });
});

describe('deploys on a fresh app', () => {
  it('a first deploy that fails exits 1 and claims nothing serves', async () => {
    const app = fixtureApp('v1');
    try {
      app.write('v1', 'crash-on-boot');
      const plain = await runCcom(['deploy', '-C', app.dir]);
      assert.equal(plain.code, 1, plain.stderr);
      assert.equal(plain.stdout, '', 'a failed deploy printed a URL on stdout');
      assert.doesNotMatch(plain.stderr, /live at|keeps serving/);
      const status = await statusOf(app);
      assert.equal(status.live, null);
      assert.ok(status.releases.every((r: { weight: number; instances: unknown[] }) => r.weight === 0 && r.instances.length === 0), JSON.stringify(status.releases));
      assert.equal((await get(status.url)).status, 503);
      const releases = (await runCcom(['releases', '-C', app.dir, '--json'])).json.releases;
      assert.ok(releases.every((r: { status: string }) => r.status !== 'live'));
    } finally {
      await app.cleanup();
    }
  });

  it('a public port taken by another program blocks (exit 2) naming the port, starting nothing', async () => {
    const app = fixtureApp('v1');
    const { port, server } = await occupyPort();
    try {
      writeConfig(app, [['port: 0', `port: ${port}`]]);
      const { run, doc } = await deploy(app);
      assert.equal(run.code, 2, run.stderr);
      assert.equal(doc.status, 'blocked');
      assert.match(doc.reason, new RegExp(`\\bport ${port}\\b`));
      assert.match(run.stderr, BLOCKED_LINE);
      assert.ok(!doc.steps.some((s: { name: string }) => s.name === 'agent' || s.name === 'start'), 'steps ran past the capacity check');
      assert.ok(!existsSync(join(app.state, 'agent.pid')), 'an agent was started');
      assert.deepEqual(releaseDirs(app.dir), []);
      assert.ok(server.listening, 'the other program lost its port');
    } finally {
      server.close();
      await app.cleanup();
    }
  });

  it('a missing required env var blocks; from the env file it deploys and the value is never shown or stored', async () => {
    const app = fixtureApp('v1');
    const secret = 'hunter2';
    try {
      writeConfig(app, [], 'env:\n  required: [SECRET_TOKEN]\n');
      const blocked = await deploy(app);
      assert.equal(blocked.run.code, 2, blocked.run.stderr);
      assert.equal(blocked.doc.status, 'blocked');
      assert.match(blocked.doc.reason, /SECRET_TOKEN/);
      assert.match(blocked.run.stderr, BLOCKED_LINE);

      writeFileSync(join(app.dir, '.env.production'), `SECRET_TOKEN=${secret}\n`);
      writeConfig(app, [], 'env:\n  file: .env.production\n  required: [SECRET_TOKEN]\n');
      const { run, doc } = await deploy(app);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(doc.status, 'succeeded');
      assert.deepEqual(await get(doc.url), { status: 200, body: 'ok v1' });
      const status = await runCcom(['status', '-C', app.dir, '--json']);
      for (const [name, text] of [['deploy stdout', run.stdout], ['deploy stderr', run.stderr], ['status', status.stdout + status.stderr]]) {
        assert.ok(!text?.includes(secret), `the secret appears in ${name}`);
      }
      // The instance gets the value; the release directory does not hold the env file.
      const pid = status.json.releases[0].instances[0].pid;
      assert.ok(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`SECRET_TOKEN=${secret}`), 'the instance has the variable');
      assert.ok(!existsSync(join(app.state, 'releases', doc.release, '.env.production')), 'the env file was copied into the release');
      // The agent may still hold recent writes in the WAL: both files make up the database.
      for (const file of ['state.db', 'state.db-wal']) {
        const path = join(app.state, file);
        if (file === 'state.db') assert.ok(existsSync(path));
        if (existsSync(path)) assert.ok(!readFileSync(path).includes(secret), `the secret is stored in ${file}`);
      }
    } finally {
      await app.cleanup();
    }
  });

  it('two deploys at once: one wins, the other is blocked naming the lock holder and since when', async () => {
    const app = fixtureApp('v1');
    try {
      writeConfig(app, [], 'gates:\n  - name: hold\n    run: sleep 1\n');
      const startedAt = Date.now();
      const a = startCcom(['deploy', '-C', app.dir, '--json']);
      const b = startCcom(['deploy', '-C', app.dir, '--json']);
      const [ra, rb] = await Promise.all([a.done, b.done]);
      assert.deepEqual([ra.code, rb.code].sort(), [0, 2], `${ra.stderr}\n---\n${rb.stderr}`);
      const [winner, loser] = ra.code === 0 ? [a, rb] : [b, ra];
      assert.equal(loser.json.deployment.status, 'blocked');
      const reason: string = loser.json.deployment.reason;
      assert.match(reason, /another command is changing what serves: `ccom deploy`/);
      assert.match(reason, new RegExp(`\\bpid ${winner.pid}\\b`));
      const since = /since (\S+)/.exec(reason)?.[1];
      assert.ok(since && Date.parse(since) >= startedAt - 1000 && Date.parse(since) <= Date.now(), `no holding time in: ${reason}`);
      assert.match(loser.stderr, BLOCKED_LINE);
    } finally {
      await app.cleanup();
    }
  });

  it('a lock left by a dead process is taken over, and the deploy says so', async () => {
    const app = fixtureApp('v1');
    try {
      const pid = await deadPid();
      const store = Store.open(app.dir);
      try {
        const taken = store.acquireLock({ pid, host: hostname(), who: 'ghost@test', deploymentId: 'd-ghost', command: 'ccom deploy' });
        assert.equal(taken.ok, true);
      } finally {
        store.close();
      }
      const { run, doc } = await deploy(app);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(doc.status, 'succeeded');
      assert.match(run.stderr, new RegExp(`took over .*lock.*ghost@test.*pid ${pid}\\b`));
      const after = Store.open(app.dir);
      try {
        assert.equal(after.lockHolder(), undefined, 'the lock was not released after the deploy');
      } finally {
        after.close();
      }
    } finally {
      await app.cleanup();
    }
  });
});
