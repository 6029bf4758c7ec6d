import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runCcom } from './helpers/ccom.js';
import { ask, flagsApp } from './helpers/flags-app.js';
import { startLoad, type LoadReport } from './helpers/load.js';
import { startWebhook, type Webhook } from './helpers/ops-tools.js';
import { sleep } from './helpers/progressive.js';
import { startCcom } from './helpers/failure-tools.js';

/**
 * Guarded flag rollouts under load: the proxy attributes each request to the variant its bucket
 * is served, and the canary's judge compares flag on with flag off. A flag whose `on` variant
 * fails 20% of requests is turned off with at most 0.2% of all requests failed; a good one
 * reaches 100%.
 */
let webhook: Webhook;
let app: ReturnType<typeof flagsApp>;
let url = '';

before(async () => {
  webhook = await startWebhook();
  // Judged from 10 requests, as mixed-load's canaries: at 10% of a busy 2-core machine's ~170 req/s the first 20 take over a second.
  app = flagsApp(`alerts:\n  webhook: ${webhook.url}\n  timeout: 1s\n  retries: 0\nanalysis:\n  minRequests: 10\n`);
  const first = await runCcom(['deploy', '-C', app.dir, '--json']);
  assert.equal(first.code, 0, first.stderr);
  url = first.json.deployment.url;
});
after(async () => {
  await app.cleanup();
  await webhook.close();
});

const flags = (...args: string[]) => runCcom(['flags', ...args, '-C', app.dir, '--json']);

test('a flag whose on variant fails 20% is turned off at its first step, with ≤ 0.2% of all requests failed', async (t) => {
  const load = startLoad(new URL('/search', url).href, 8);
  const windowStart = Date.now();
  let report: LoadReport | undefined;
  try {
    await sleep(1000);
    const run = await flags('rollout', 'risky-search', '--steps', '10,50,100', '--interval', '3s');
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.json.status, 'killed');
    assert.match(run.json.reason, /^analysis failed at 10%: error rate \d+(\.\d+)?% \(\d+ of \d+ requests failed\) > allowed 1\.00%/);
    assert.match(run.stderr, /⚡ risky-search turned off - /);
    assert.equal(run.json.change.new.override.variant, 'off');
    assert.equal(run.json.change.new.reason, run.json.reason, 'why is recorded with the override');
    await sleep(Math.max(0, 20_000 - (Date.now() - windowStart)));
  } finally {
    report = await load.stop();
  }
  const share = report.failed / report.total;
  t.diagnostic(`${report.failed} of ${report.total} requests failed (${(share * 100).toFixed(3)}%)`);
  assert.ok(report.total > 1000, `enough load (${report.total})`);
  assert.ok(share <= 0.002, `${report.failed} of ${report.total} requests failed (${(share * 100).toFixed(3)}%): ${JSON.stringify(report.failures)}`);
  assert.ok(report.failed > 0, 'the bad variant was served (and caught) at all');
  assert.equal((await ask(url, { path: '/search' })).body.split(' ')[1], 'off');
  const alert = webhook.events.map((e) => e.body as { event?: string; flag?: string; status?: string }).find((b) => b.event === 'flag');
  assert.deepEqual([alert?.flag, alert?.status], ['risky-search', 'killed']);
  const history = await flags('history', 'risky-search');
  assert.equal(history.json.history[0].action, 'flags.killed');
  assert.equal((await flags()).json.guard, null, 'the guard ended with the rollout');
});

test('a good flag goes through 10%, 50% and 100% and is on for everyone', async () => {
  const load = startLoad(url, 8);
  let report: LoadReport | undefined;
  try {
    const run = await flags('rollout', 'new-checkout', '--steps', '10,50,100', '--interval', '1s');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.json.status, 'succeeded');
    assert.deepEqual(run.json.steps.map((s: { percent: number }) => s.percent), [10, 50, 100]);
  } finally {
    report = await load.stop();
  }
  assert.equal(report.failed, 0, JSON.stringify(report.failures));
  assert.ok(Object.keys(report.bodies).some((b) => b.startsWith('on ')) && Object.keys(report.bodies).some((b) => b.startsWith('off ')), 'both variants were served on the way');
  for (let i = 0; i < 10; i++) assert.equal((await ask(url)).body.split(' ')[0], 'on');
});

test('a guarded rollout whose ccom process is killed -9 is turned off by the agent', async () => {
  const rollout = startCcom(['flags', 'rollout', 'risky-search', '--steps', '50,100', '--interval', '60s', '-C', app.dir, '--json']);
  try {
    let guarded = false;
    for (let i = 0; i < 100 && !guarded; i++) {
      await sleep(100);
      guarded = (await flags()).json?.guard?.pid === rollout.pid;
    }
    assert.ok(guarded, 'the rollout registered its guard');
  } finally {
    process.kill(rollout.pid, 'SIGKILL');
    await rollout.done;
  }
  let doc;
  for (let i = 0; i < 30; i++) {
    await sleep(100);
    doc = (await flags()).json;
    if (doc.guard === null) break;
  }
  const flag = doc.flags.find((f: { key: string }) => f.key === 'risky-search');
  assert.equal(flag.override.override.variant, 'off');
  assert.match(flag.override.reason, /guarded rollout's ccom process \(pid \d+\) died before it finished/);
  assert.equal((await ask(url, { path: '/search' })).body.split(' ')[1], 'off');
});

test('ccom flags promote ends a guarded rollout\'s wait at once; ccom flags abort turns the flag off', async () => {
  const waitForGuard = async (pid: number) => {
    for (let i = 0; i < 100; i++) {
      if ((await flags()).json?.guard?.pid === pid) return;
      await sleep(100);
    }
    throw new Error('the rollout never registered its guard');
  };
  const promoted = startCcom(['flags', 'rollout', 'new-checkout', '--steps', '10,100', '--interval', '60s', '-C', app.dir, '--json']);
  await waitForGuard(promoted.pid);
  assert.equal((await flags('promote', 'new-checkout')).code, 0);
  const done = await promoted.done;
  assert.equal(done.code, 0, done.stderr);
  assert.equal(done.json.status, 'succeeded');
  assert.match(done.json.steps[0].verdict, /^promoted by ccom flags promote/);

  const aborted = startCcom(['flags', 'rollout', 'new-checkout', '--steps', '10,100', '--interval', '60s', '-C', app.dir, '--json']);
  await waitForGuard(aborted.pid);
  assert.equal((await flags('abort', 'new-checkout')).code, 0);
  const stopped = await aborted.done;
  assert.equal(stopped.code, 1, stopped.stderr);
  assert.equal(stopped.json.reason, 'aborted at 10% by ccom flags abort');
  assert.equal((await ask(url)).body.split(' ')[0], 'off');
  assert.equal((await flags('promote', 'new-checkout')).code, 2, 'nothing to promote any more');
});
