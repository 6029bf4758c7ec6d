import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Store } from '../src/store/index.js';
import { fixtureApp, type AppMode } from './helpers/fixture-app.js';
import { runCcom } from './helpers/ccom.js';
import { startWebhook, type Webhook } from './helpers/ops-tools.js';
import { startLoad, type LoadReport } from './helpers/load.js';
import { sample, sleep } from './helpers/progressive.js';

/**
 * The watch after a switch (analysis.watch): the agent judges the new release's live traffic
 * with the previous release warm, and moves traffic back on a regression, also after the CLI
 * returned. A release failing 30% of `/api/hello` passes health and the `/` smoke test, so
 * only live traffic can catch it.
 */
const app = fixtureApp('v1');
let url = '';
let hook: Webhook;

const watchConfig = (watch: string) => `analysis:\n  watch: ${watch}\nalerts:\n  webhook: ${hook.url}\n  timeout: 1s\n`;

interface WatchDoc { release: string; previous: string; until: string; status: string; reason?: string; endedAt?: string }
interface StatusDoc {
  live: string | null;
  monitoring: string | null;
  agent: { pid: number } | null;
  watch: WatchDoc | null;
  releases: Array<{ id: string; weight: number; instances: Array<{ id: string; pid: number; healthy: boolean }> }>;
}

async function status(): Promise<StatusDoc> {
  const r = await runCcom(['status', '-C', app.dir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return r.json as StatusDoc;
}

async function statusUntil(pred: (s: StatusDoc) => boolean, what: string, timeoutMs = 30_000): Promise<StatusDoc> {
  const deadline = Date.now() + timeoutMs;
  let last = await status();
  while (!pred(last)) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs}ms; last status ${JSON.stringify(last)}`);
    await sleep(200);
    last = await status();
  }
  return last;
}

/** Continuous load on the failing route and on `/`, as users would send it. */
function userLoad() {
  const hello = startLoad(`${url}/api/hello`, 3);
  const home = startLoad(url, 1);
  return { stop: async (): Promise<LoadReport[]> => Promise.all([hello.stop(), home.stop()]) };
}

async function deploy(version: string, mode: AppMode, watch: string, ...flags: string[]) {
  app.write(version, mode);
  app.config(watchConfig(watch));
  return runCcom(['deploy', '-C', app.dir, '--json', ...flags]);
}

function deploymentRow(id: string) {
  const store = Store.open(app.dir);
  try {
    return store.getDeployment(id);
  } finally {
    store.close();
  }
}

async function assertServes(version: string): Promise<void> {
  const s = await sample(url, 20, 4);
  assert.deepEqual(s.bodies, { [`ok ${version}`]: 20 }, `all traffic on ${version}`);
}

before(async () => {
  hook = await startWebhook();
  app.config(watchConfig('5s'));
  const first = await runCcom(['deploy', '-C', app.dir, '--json']);
  assert.equal(first.code, 0, first.stderr);
  url = first.json.deployment.url;
  assert.equal(first.json.deployment.watch, undefined, 'a first deploy has no previous release to watch against');
});
after(async () => {
  await app.cleanup();
  await hook.close();
});

test('--wait: a blue-green release failing 30% of /api/hello is moved back by the watch, exit 1', async () => {
  const load = userLoad();
  try {
    await sleep(500);
    const run = await deploy('v2', 'hello-30', '30s', '--wait');
    assert.equal(run.code, 1, run.stderr);
    const d = run.json.deployment;
    assert.equal(d.status, 'rolled_back');
    assert.equal(d.watch.status, 'rolled_back');
    assert.match(d.reason, /watch after the switch found a regression: error rate \d+(\.\d+)?% \(\d+ of \d+ requests failed\) > allowed 1\.00%/);
    const names = d.steps.map((s: { name: string }) => s.name);
    assert.ok(names.includes('watch') && names.includes('watch:wait') && !names.includes('drain'), `steps: ${names.join(', ')}`);
    const s = await statusUntil((x) => !x.releases.some((r) => r.id === d.release), 'the new instances stopped');
    assert.equal(s.live, d.previous);
    assert.deepEqual(s.releases.map((r) => [r.id, r.weight]), [[d.previous, 100]]);
    assert.equal(s.watch?.status, 'rolled_back');
    await assertServes('v1');
    const row = deploymentRow(d.id);
    assert.equal(row?.status, 'rolled_back');
    const alert = await hook.waitFor((e) => e.deployment === d.id && e.status === 'rolled_back');
    assert.match(alert.reason, /regression: error rate/);
    await sleep(500);
    assert.equal(hook.events.filter((e) => e.body.deployment === d.id).length, 1, 'one alert: the CLI sent it, the agent did not send it again');
  } finally {
    await load.stop();
  }
});

test('without --wait the deploy exits 0 at the switch; the agent then moves traffic back and history, status and the webhook say so', async (t) => {
  const load = userLoad();
  try {
    await sleep(500);
    const run = await deploy('v3', 'hello-30', '30s');
    assert.equal(run.code, 0, run.stderr);
    const d = run.json.deployment;
    assert.equal(d.status, 'succeeded');
    assert.equal(d.watch.status, 'running');
    assert.ok(Date.parse(d.watch.until) > Date.now(), 'the watch runs until a time to come');
    assert.match(run.stderr, /the agent watches its live traffic until/);
    const s = await statusUntil((x) => x.watch?.status === 'rolled_back' && x.watch.release === d.release, 'the watch rolled back');
    assert.match(s.watch?.reason ?? '', /error rate/);
    t.diagnostic(`watch start → traffic moved back: ${Date.parse(s.watch?.endedAt ?? '') - (Date.parse(d.watch.until) - 30_000)} ms (${s.watch?.reason})`);
    const alert = await hook.waitFor((e) => e.deployment === d.id && e.status === 'rolled_back', 10_000);
    assert.match(alert.reason, /watch after the switch found a regression/);
    const row = deploymentRow(d.id);
    assert.equal(row?.status, 'rolled_back', 'the agent rewrote the succeeded row');
    const releases = (await runCcom(['releases', '-C', app.dir, '--json'])).json.releases as Array<{ id: string; status: string }>;
    assert.equal(releases.find((r) => r.id === d.release)?.status, 'rolled_back');
    assert.equal(releases.find((r) => r.id === d.previous)?.status, 'live');
    const metrics = await (await fetch(s.monitoring as string)).text();
    assert.match(metrics, /^ccom_watch_outcomes_total\{outcome="rolled_back",app="fixture"\} [1-9]/m);
    const human = await runCcom(['status', '-C', app.dir]);
    assert.match(human.stderr, /last watch \(.+\): rolled back/);
    await statusUntil((x) => x.releases.every((r) => r.id === d.previous), 'only the previous release runs');
    await assertServes('v1');
  } finally {
    await load.stop();
  }
});

test('a deploy validating while the last watch moves traffic back takes the release serving now as its stable one: its failed canary goes back there, never a 503', async (t) => {
  // No traffic yet: the watch of v3b cannot judge, so it still runs when the next deploy reads what is live.
  const watched = await deploy('v3b', 'hello-30', '30s');
  assert.equal(watched.code, 0, watched.stderr);
  const v3b = watched.json.deployment;
  app.write('v3c', 'hello-30');
  app.config(`strategy: canary\ncanary:\n  steps: [50]\n  interval: 2s\ngates:\n  - name: slow\n    run: sleep 2\n${watchConfig('30s')}`);
  const next = runCcom(['deploy', '-C', app.dir, '--json']);
  await sleep(700);
  // Users arrive while the next deploy runs its gate: the watch moves traffic back to v1.
  const load = userLoad();
  let reports: LoadReport[] | undefined;
  let run;
  try {
    run = await next;
  } finally {
    reports = await load.stop();
  }
  assert.equal(run.code, 1, run.stderr);
  const d = run.json.deployment;
  assert.equal(d.status, 'rolled_back', d.reason);
  assert.equal(d.previous, v3b.previous, 'the stable release is the one the watch went back to');
  const store = Store.open(app.dir);
  try {
    assert.equal(store.getDeployment(d.id)?.previous, v3b.previous, 'history names it too');
  } finally {
    store.close();
  }
  // On a busy machine the watch may move traffic back before the next deploy even reads what is
  // live; then there is no race to report, and the outcome below must hold all the same.
  const raced = new RegExp(`${v3b.previous} serves now \\(the watch of the last deploy moved traffic back to it\\)`).test(run.stderr);
  t.diagnostic(raced ? 'the watch moved traffic back while the next deploy validated' : 'the watch moved traffic back before the next deploy began');
  assert.match(d.reason, /error rate/);
  const failures = Object.keys(reports.flatMap((r) => Object.keys(r.failures)).reduce((all, k) => ({ ...all, [k]: 1 }), {}));
  assert.deepEqual(failures.filter((f) => !f.includes('hello failed')), [], 'only the bad releases\' own failures, no 503');
  await statusUntil((x) => x.releases.every((r) => r.id === v3b.previous), 'only v1 runs');
  await assertServes('v1');
});

test('kill -9 of the agent during a watch: the restarted agent resumes it and still moves traffic back', async () => {
  // No traffic yet: the watch cannot judge, so it is still running when the agent dies.
  const run = await deploy('v4', 'hello-30', '40s');
  assert.equal(run.code, 0, run.stderr);
  const d = run.json.deployment;
  const before = await status();
  assert.equal(before.watch?.status, 'running');
  process.kill(before.agent?.pid as number, 'SIGKILL');
  const resumed = await statusUntil((x) => x.agent !== null && x.agent.pid !== before.agent?.pid, 'a new agent');
  assert.equal(resumed.watch?.status, 'running', 'the watch survived the restart');
  assert.equal(resumed.watch?.release, d.release);
  const load = userLoad();
  try {
    // History is written by the agent just after traffic moved back.
    const s = await statusUntil((x) => x.watch?.status === 'rolled_back' && x.live === d.previous, 'the resumed watch rolled back');
    assert.equal(s.watch?.release, d.release);
    assert.match(s.watch?.reason ?? '', /error rate/);
  } finally {
    await load.stop();
  }
  await statusUntil((x) => x.releases.every((r) => r.id === d.previous), 'only the previous release runs');
  await assertServes('v1');
});

test('a good release passes the watch; the old instances stay warm during it and are stopped at its end', async () => {
  const load = userLoad();
  let reports: LoadReport[] | undefined;
  try {
    const run = await deploy('v5', 'ok', '8s');
    assert.equal(run.code, 0, run.stderr);
    const d = run.json.deployment;
    const during = await status();
    assert.equal(during.watch?.status, 'running');
    const warm = during.releases.find((r) => r.id === d.previous);
    assert.equal(warm?.weight, 0, 'the previous release has no traffic');
    assert.ok(warm?.instances.length && warm.instances.every((i) => i.healthy), 'but its instances run, healthy');
    const s = await statusUntil((x) => x.watch?.status === 'passed' && x.releases.every((r) => r.id === d.release), 'the watch passed and the old instances stopped');
    assert.equal(s.live, d.release);
    assert.equal(deploymentRow(d.id)?.status, 'succeeded');
    await assertServes('v5');
    reports = await load.stop();
  } finally {
    if (!reports) await load.stop();
  }
  for (const r of reports) assert.equal(r.failed, 0, `no failed request: ${JSON.stringify(r.failures)}`);
});

test('analysis.watch: 0 drains the old set at the switch, as before', async () => {
  const run = await deploy('v6', 'ok', '0');
  assert.equal(run.code, 0, run.stderr);
  const d = run.json.deployment;
  assert.equal(d.watch, undefined);
  const names = d.steps.map((s: { name: string }) => s.name);
  assert.ok(names.includes('drain') && !names.includes('watch'), `steps: ${names.join(', ')}`);
  const s = await status();
  assert.deepEqual(s.releases.map((r) => r.id), [d.release], 'no old instance left when the deploy returns');
  await assertServes('v6');
});

test('canary (after its last step) and rolling (its last old batch) hand over to the watch too', async () => {
  for (const strategy of ['canary', 'rolling']) {
    app.write(`v7-${strategy}`, 'ok');
    app.config(`strategy: ${strategy}\ncanary:\n  steps: [50]\n  interval: 1s\nrolling:\n  interval: 500ms\nanalysis:\n  watch: 6s\n  minRequests: 1\n  onInconclusive: promote\n  inconclusiveTimeout: 500ms\n`);
    const load = userLoad();
    try {
      const run = await runCcom(['deploy', '-C', app.dir, '--json']);
      assert.equal(run.code, 0, run.stderr);
      const d = run.json.deployment;
      assert.equal(d.watch?.status, 'running', `${strategy}: the watch runs`);
      const names = d.steps.map((s: { name: string }) => s.name);
      assert.ok(names.includes('watch') && !names.includes('drain'), `${strategy} steps: ${names.join(', ')}`);
      // The watch (6 s) outlasts the time a busy machine takes from the deploy's return to this status.
      const warm = (await status()).releases.find((r) => r.id === d.previous);
      assert.ok(warm && warm.weight === 0 && warm.instances.length > 0, `${strategy}: the previous release stays warm`);
      await statusUntil((x) => x.watch?.status === 'passed' && x.watch.release === d.release && x.releases.every((r) => r.id === d.release), `${strategy}: the watch passed and the old instances stopped`);
    } finally {
      await load.stop();
    }
  }
});
