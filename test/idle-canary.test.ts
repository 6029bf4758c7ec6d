import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fixtureApp } from './helpers/fixture-app.js';
import { get, runCcom } from './helpers/ccom.js';
import { startCcom } from './helpers/failure-tools.js';
import { finishDeploy, sleep, statusOf } from './helpers/progressive.js';

/**
 * Canaries of an app nobody uses (yet): no request but ccom's own reaches it. Its evidence is
 * the probes ccom sends through the preview route; without them (probeRate: 0) a wait for
 * evidence that `ccom promote` and `ccom abort` can end.
 */
const app = fixtureApp('v1');
let url = '';

const CANARY = (steps: string, interval: string, analysis = '') => `strategy: canary\ncanary:\n  steps: ${steps}\n  interval: ${interval}\n${analysis}`;

/** `/` fails every fifth request, whoever sends it: the first (the smoke test) passes. */
const FLAKY_SERVER = `
const http = require('node:http');
let served = 0;
const server = http.createServer((req, res) => {
  if (req.url === '/healthz') { res.writeHead(200); return res.end('ok'); }
  if (++served % 5 === 0) { res.writeHead(500); return res.end('flaky'); }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok v-flaky');
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => { server.close(() => process.exit(0)); server.closeIdleConnections(); });
`;

before(async () => {
  app.config(CANARY('[10, 50, 100]', '3s'));
  const first = await runCcom(['deploy', '-C', app.dir, '--json']);
  assert.equal(first.code, 0, first.stderr);
  url = first.json.deployment.url;
});
after(() => app.cleanup());

test('an idle app\'s good canary (10, 50, 100 at 3 s) passes on probe evidence in well under a minute', async () => {
  app.write('v2');
  const run = await runCcom(['deploy', '-C', app.dir, '--json']);
  assert.equal(run.code, 0, run.stderr);
  const d = run.json.deployment;
  console.log(`idle canary took ${d.durationMs} ms`);
  assert.ok(d.durationMs < 45_000, `took ${d.durationMs} ms`);
  for (const name of ['canary:10%', 'canary:50%', 'canary:100%']) {
    const step = d.steps.find((s: { name: string }) => s.name === name);
    assert.match(step?.message ?? '', /^on ccom's probes: \d+ probe requests, error rate 0\.00%, p99 [\d.]+ms \(live traffic: only 0 of the 20 requests/, `${name} says what it rests on`);
  }
  assert.match(d.steps.find((s: { name: string }) => s.name === 'warm')?.message ?? '', /^\d+ warm-up request\(s\) to 2 instance\(s\) in \d+ms \(first/);
  assert.equal((await get(url)).body, 'ok v2');
});

test('an idle app\'s canary whose / fails 20% of the time is rolled back on probe evidence', async () => {
  writeFileSync(join(app.dir, 'server.js'), FLAKY_SERVER);
  const run = await runCcom(['deploy', '-C', app.dir, '--json']);
  assert.equal(run.code, 1, run.stderr);
  const d = run.json.deployment;
  assert.equal(d.status, 'rolled_back');
  assert.match(d.reason, /^analysis failed at 10% of traffic: error rate [\d.]+% \(\d+ of \d+ probe requests failed\) > allowed 1\.00%/);
  for (let i = 0; i < 10; i++) assert.equal((await get(url)).body, 'ok v2', 'the stable release serves');
});

/** Polls `ccom status` until the deployment waits for evidence at `step`. */
async function waitingAt(step: string) {
  for (let i = 0; i < 300; i++) {
    const status = await statusOf(app.dir);
    const d = status.deployment as null | { step: string | null; paused: string | null; waiting: string | null };
    if (d?.waiting && d.step === step) return d;
    await sleep(100);
  }
  throw new Error(`no wait for evidence at ${step} within 30 s`);
}

test('without probes, a wait for evidence counts live, is not a pause, and ends with promote or abort', async () => {
  app.config(CANARY('[50]', '1s', 'analysis:\n  minRequests: 40\n  inconclusiveTimeout: 60s\n  probeRate: 0\n'));
  app.write('v3');
  const deploy = startCcom(['deploy', '-C', app.dir, '--json']);
  // A trickle of users: fewer than minRequests, but counts that grow.
  let trickling = true;
  const trickle = (async () => {
    while (trickling) {
      await get(url).catch(() => undefined);
      await sleep(300);
    }
  })();
  try {
    const first = await waitingAt('canary:50%');
    assert.equal(first.paused, null, 'nothing waits for a person at a traffic step');
    assert.match(first.waiting!, /^not enough traffic to judge the new release at 50% of traffic \(only \d+ of the 40 requests needed/);
    await sleep(2500);
    const later = await waitingAt('canary:50%');
    const count = (w: string) => Number(/only (\d+) of the 40/.exec(w)?.[1]);
    assert.ok(count(later.waiting!) > count(first.waiting!), `the counts grow: "${first.waiting}" then "${later.waiting}"`);

    const promoted = startCcom(['promote', '-C', app.dir, '--json']);
    await waitingAt('canary:100%');
    const second = await runCcom(['promote', '-C', app.dir, '--json']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal((await promoted.done).code, 0, 'the first promote reports the finished deployment too');
    const done = await deploy.done;
    assert.equal(done.code, 0, done.stderr);
    const step = done.json.deployment.steps.find((s: { name: string }) => s.name === 'canary:50%');
    assert.match(step?.message ?? '', /^promoted by \S+ while waiting for evidence; only \d+ of the 40 requests/);
    assert.match(done.stderr, /^⏳ Waiting for evidence - not enough traffic/m);
    assert.doesNotMatch(done.stderr, /paused/);
  } finally {
    await finishDeploy(app.dir, deploy);
  }

  app.write('v4');
  const aborted = startCcom(['deploy', '-C', app.dir, '--json']);
  try {
    await waitingAt('canary:50%');
    const abort = await runCcom(['abort', '-C', app.dir, '--json']);
    assert.equal(abort.code, 1, abort.stderr);
    const done = await aborted.done;
    assert.equal(done.json.deployment.status, 'rolled_back');
    assert.match(done.json.deployment.reason, /^aborted by \S+ at 50% of traffic/);
  } finally {
    trickling = false;
    await trickle;
    await finishDeploy(app.dir, aborted);
  }
  assert.equal((await get(url)).body, 'ok v3');
});
