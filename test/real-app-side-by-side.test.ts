import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { get } from './helpers/ccom.js';
import { realApp, type RealApp } from './helpers/real-app.js';

/**
 * Two apps on one machine, each configured by `ccom init` as written (ports included): both
 * deploy, each at its own URL with its own metrics.
 */
const apps: RealApp[] = [];
after(async () => {
  for (const app of apps) {
    await app.down();
    app.remove();
  }
});

test(
  'two apps made by ccom init deploy side by side, each with its own URL and metrics',
  { timeout: 300_000 },
  async () => {
    // As a user adds a second app: init and deploy one, then init and deploy the other.
    const seen = new Set<string>();
    const deploy = async (app: (typeof apps)[number]) => {
      const run = await app.ccom(['deploy', '--json']);
      assert.equal(run.code, 0, `deploy of ${app.dir}: exit ${run.code}\n${run.stderr}`);
      seen.add(run.json.deployment.url);
    };
    const first = await realApp('express', { packageName: 'shop-a', initPorts: true });
    apps.push(first);
    await deploy(first);
    const second = await realApp('express', { packageName: 'shop-b', initPorts: true, nodeModulesFrom: first.dir });
    apps.push(second);
    await deploy(second);
    assert.equal(seen.size, 2, `two URLs: ${[...seen].join(', ')}`);
    for (const [i, app] of apps.entries()) {
      const status = (await app.ccom(['status', '--json'])).json;
      assert.equal((await get(status.url)).status, 200, `${status.app} serves its page`);
      assert.ok(status.monitoring, `${status.app} has a metrics URL`);
      const metrics = await get(status.monitoring);
      assert.equal(metrics.status, 200);
      assert.match(metrics.body, new RegExp(`app="shop-${'ab'[i]}"`), `${status.monitoring} serves ${status.app}'s own metrics`);
    }
  },
);
