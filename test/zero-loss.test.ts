import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { fixtureApp } from './helpers/fixture-app.js';
import { runCcom } from './helpers/ccom.js';
import { startLoad } from './helpers/load.js';

const app = fixtureApp('v1');
after(() => app.cleanup());

/**
 * The core promise: under continuous traffic through the public port, good releases, bad
 * releases and a rollback lose no request. Every response is counted.
 */
test('five blue-green deploys, three bad releases and a rollback under load lose no request', async () => {
  const first = await runCcom(['deploy', '-C', app.dir, '--json']);
  assert.equal(first.code, 0, first.stderr);
  const url = first.json.deployment.url as string;
  const load = startLoad(url, 8);
  const outcomes: string[] = [];
  const deploy = async (version: string, mode: Parameters<typeof app.write>[1], expectCode: number) => {
    app.write(version, mode);
    const run = await runCcom(['deploy', '-C', app.dir, '--json']);
    assert.equal(run.code, expectCode, `${version} ${mode}: ${run.stderr}`);
    outcomes.push(`${version}:${run.json.deployment.status}`);
  };
  try {
    await deploy('v2', 'ok', 0);
    await deploy('v3', 'ok', 0);
    await deploy('bad-crash', 'crash-on-boot', 1);
    await deploy('v4', 'ok', 0);
    await deploy('bad-unhealthy', 'never-healthy', 1);
    await deploy('v5', 'ok', 0);
    await deploy('bad-smoke', 'broken-page', 1);
    await deploy('v6', 'ok', 0);
    const rb = await runCcom(['rollback', '-C', app.dir, '--json']);
    assert.equal(rb.code, 0, rb.stderr);
    outcomes.push(`rollback:${rb.json.deployment.status}`);
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    const report = await load.stop();
    console.log(JSON.stringify({ outcomes, ...report }));
    assert.equal(report.failed, 0, `failed requests: ${JSON.stringify(report.failures)}`);
    assert.ok(report.total > 500, `enough load to mean something (${report.total} requests)`);
    for (const v of ['v1', 'v2', 'v3', 'v4', 'v5', 'v6']) assert.ok(report.bodies[`ok ${v}`], `traffic reached ${v}`);
    for (const body of Object.keys(report.bodies)) assert.doesNotMatch(body, /bad-|internal error/, 'no user saw a bad release');
  }
  assert.deepEqual(outcomes, [
    'v2:succeeded',
    'v3:succeeded',
    'bad-crash:rolled_back',
    'v4:succeeded',
    'bad-unhealthy:rolled_back',
    'v5:succeeded',
    'bad-smoke:rolled_back',
    'v6:succeeded',
    'rollback:succeeded',
  ]);
});
