import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fixtureApp } from './helpers/fixture-app.js';
import { runCcom } from './helpers/ccom.js';
import { writeConfig } from './helpers/failure-tools.js';
import { startLoad, type LoadReport } from './helpers/load.js';
import { sample, statusOf } from './helpers/progressive.js';

/** Rolling delivery over four instances, one at a time, under continuous load. */
const app = fixtureApp('v1');
let url = '';

before(async () => {
  writeConfig(app, [['instances: 2', 'instances: 4']], 'strategy: rolling\nrolling:\n  batch: 1\n  interval: 1s\n');
  const first = await runCcom(['deploy', '-C', app.dir, '--json']);
  assert.equal(first.code, 0, first.stderr);
  url = first.json.deployment.url;
});
after(() => app.cleanup());

function assertNoFailures(report: LoadReport): void {
  console.log(JSON.stringify(report));
  assert.equal(report.failed, 0, `failed requests: ${JSON.stringify(report.failures)}`);
  assert.ok(report.total > 500, `enough load to mean something (${report.total} requests)`);
}

/** Status once every instance reports healthy (an instance may still be finishing its first check). */
async function settledStatus() {
  let status = await statusOf(app.dir);
  for (let i = 0; i < 50 && !status.releases.every((r) => r.instances.every((x) => x.healthy)); i++) {
    await new Promise((r) => setTimeout(r, 100));
    status = await statusOf(app.dir);
  }
  return status;
}

test('a healthy rolling deploy under load loses nothing and ends with 4 new instances', async () => {
  const before = await statusOf(app.dir);
  const oldPids = before.releases.flatMap((r) => r.instances.map((i) => i.pid));
  assert.equal(oldPids.length, 4);
  app.write('v2');
  const load = startLoad(url, 8);
  let release = '';
  try {
    const run = await runCcom(['deploy', '-C', app.dir, '--json']);
    assert.equal(run.code, 0, run.stderr);
    release = run.json.deployment.release;
    const rolls = run.json.deployment.steps.map((s: { name: string }) => s.name).filter((n: string) => n.startsWith('roll:'));
    assert.deepEqual(rolls, ['roll:1/4', 'roll:2/4', 'roll:3/4', 'roll:4/4'], 'one instance at a time');
  } finally {
    const report = await load.stop();
    assertNoFailures(report);
    assert.ok(report.bodies['ok v1'] && report.bodies['ok v2'], 'traffic moved from v1 to v2 during the roll');
  }
  const status = await settledStatus();
  assert.equal(status.live, release);
  assert.deepEqual(status.releases.map((r) => [r.id, r.weight, r.instances.length]), [[release, 100, 4]]);
  for (const i of status.releases[0]!.instances) {
    assert.ok(i.healthy, `${i.id} healthy`);
    assert.ok(!oldPids.includes(i.pid), `${i.id} is a new process`);
  }
  assert.deepEqual((await sample(url, 20, 4)).bodies, { 'ok v2': 20 });
});

test('a release that crashes after boot is rolled back mid-roll to 4 healthy old instances, nothing lost', async () => {
  const live = (await statusOf(app.dir)).live;
  app.write('v3-crash', 'crash-after-boot');
  const load = startLoad(url, 8);
  try {
    const run = await runCcom(['deploy', '-C', app.dir, '--json']);
    assert.equal(run.code, 1, run.stderr);
    const d = run.json.deployment;
    assert.equal(d.status, 'rolled_back');
    // Usually the crash; a cold new instance on a busy machine can trip the latency judge first.
    assert.match(d.reason, /crashed|analysis failed/);
    const failed = d.steps.find((s: { status: string }) => s.status === 'failed');
    assert.match(failed?.name ?? '', /^roll:[123]\/4$/, 'it failed mid-roll, before the last batch');
    assert.equal(d.steps.find((s: { name: string }) => s.name === 'rollback')?.status, 'passed');
  } finally {
    assertNoFailures(await load.stop());
  }
  const status = await settledStatus();
  assert.equal(status.live, live);
  assert.deepEqual(status.releases.map((r) => [r.id, r.weight, r.instances.length]), [[live, 100, 4]], 'exactly the old release, 4 instances, all traffic');
  for (const i of status.releases[0]!.instances) assert.ok(i.healthy, `${i.id} healthy (${i.state})`);
  assert.deepEqual((await sample(url, 20, 4)).bodies, { 'ok v2': 20 });
});
