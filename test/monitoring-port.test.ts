import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCcom } from './helpers/ccom.js';
import { BASE_CONFIG, fixtureApp } from './helpers/fixture-app.js';

/** Two apps on one machine, monitoring.port left to its default (9464): both are monitored. */
const apps = [fixtureApp('a1'), fixtureApp('b1')];
after(async () => {
  for (const app of apps) await app.cleanup();
});

test('two apps with the default monitoring port each get one, and doctor is content with both', async () => {
  const config = BASE_CONFIG.replace('monitoring:\n  port: 0\n', '');
  assert.notEqual(config, BASE_CONFIG, 'the fixture config had a monitoring block to drop');
  const urls: string[] = [];
  for (const app of apps) {
    writeFileSync(join(app.dir, 'ccom.yaml'), config);
    const deploy = await runCcom(['deploy', '-C', app.dir, '--json']);
    assert.equal(deploy.code, 0, deploy.stderr);
    const status = await runCcom(['status', '-C', app.dir, '--json']);
    const url = status.json.monitoring as string | null;
    assert.match(url ?? '', /^http:\/\/127\.0\.0\.1:(\d+)\/metrics$/);
    const port = Number(/:(\d+)\//.exec(url!)![1]);
    assert.ok(port >= 9464 && port <= 9564, `a port from 9464 on: ${port}`);
    urls.push(url!);
  }
  assert.notEqual(urls[0], urls[1], 'each app has its own metrics port');
  for (const url of urls) {
    const text = await (await fetch(url)).text();
    assert.match(text, /app="fixture"/);
  }
  const doctor = await runCcom(['doctor', '-C', apps[1]!.dir, '--json']);
  const checks = Object.fromEntries((doctor.json.checks as Array<{ name: string; status: string; message: string }>).map((c) => [c.name, c]));
  for (const name of ['monitoring-port', 'monitoring']) assert.equal(checks[name]?.status, 'pass', `${name}: ${checks[name]?.message}`);
});
