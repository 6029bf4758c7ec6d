import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { get, runCcom } from './helpers/ccom.js';
import { startCcom } from './helpers/failure-tools.js';
import { fixtureApp, serverSource } from './helpers/fixture-app.js';

test('ccom init on a plain Node app writes a config that deploys as it stands', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ccom-init-'));
  try {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'My Shop', scripts: { start: 'node server.js', test: 'node -e 0' } }));
    writeFileSync(join(dir, 'server.js'), serverSource('v1', 'ok').replace("'/healthz'", "'/health'"));
    const init = await runCcom(['init', '-C', dir]);
    assert.equal(init.code, 0, init.stderr);
    const again = await runCcom(['init', '-C', dir]);
    assert.equal(again.code, 2, 'init refuses to overwrite');
    assert.match(again.stderr, /--force/);
    // The generated config uses the default public port; this test must not take 8080.
    const yaml = join(dir, 'ccom.yaml');
    const { readFileSync } = await import('node:fs');
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(/^ {2}port: \d+/m, '  port: 0').replace(/port: 9464/, 'port: 0'));
    const deploy = await runCcom(['deploy', '-C', dir, '--json']);
    assert.equal(deploy.code, 0, deploy.stderr);
    assert.equal(deploy.json.deployment.app, 'my-shop');
    assert.ok(deploy.json.deployment.steps.some((s: { name: string; status: string }) => s.name === 'gate:test' && s.status === 'passed'));
    assert.equal((await get(deploy.json.deployment.url)).body, 'ok v1');
  } finally {
    await runCcom(['down', '-C', dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Ctrl-C during a canary rolls back at the next step boundary; the old release serves', async () => {
  const app = fixtureApp('v1');
  try {
    app.config('strategy: canary\ncanary:\n  steps: [50, pause]\n  interval: 200ms\nanalysis:\n  minRequests: 1\n  onInconclusive: promote\n  inconclusiveTimeout: 100ms\n');
    const first = await runCcom(['deploy', '-C', app.dir, '--json']);
    assert.equal(first.code, 0, first.stderr);
    app.write('v2');
    const running = startCcom(['deploy', '-C', app.dir, '--json']);
    // Wait until the deploy sits in its pause, then interrupt it like a user at the terminal would.
    for (let i = 0; i < 100; i++) {
      const status = await runCcom(['status', '-C', app.dir, '--json']);
      if (status.json?.deployment?.paused) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    process.kill(running.pid, 'SIGINT');
    const run = await running.done;
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.json.deployment.status, 'rolled_back');
    assert.match(run.json.deployment.reason, /^cancelled by Ctrl-C/);
    assert.equal((await get(first.json.deployment.url)).body, 'ok v1');
    const status = (await runCcom(['status', '-C', app.dir, '--json'])).json;
    assert.deepEqual(status.releases.map((r: { weight: number }) => r.weight), [100]);
    assert.equal(status.deployment, null, 'no deployment left running');
  } finally {
    await app.cleanup();
  }
});

test('unknown commands and bad flags exit 2 without a stack trace', async () => {
  const unknown = await runCcom(['deploi']);
  assert.equal(unknown.code, 2);
  assert.doesNotMatch(unknown.stderr, /\n\s+at /);
  const badStrategy = await runCcom(['deploy', '--strategy', 'yolo']);
  assert.equal(badStrategy.code, 2);
  assert.match(badStrategy.stderr, /yolo/);
  const version = await runCcom(['--version']);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
});
