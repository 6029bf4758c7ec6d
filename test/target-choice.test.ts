import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureApp } from './helpers/fixture-app.js';
import { runCcom } from './helpers/ccom.js';

// The target comes from the config: `hosts:` means SSH, which is not built yet. Every command
// must say so before it touches anything, rather than deploy to this machine instead.
test('a config with hosts: is blocked (exit 2) by every command, naming SSH; nothing is created', { timeout: 60_000 }, async () => {
  const app = fixtureApp('v1');
  try {
    app.config('hosts:\n  - 203.0.113.10\n  - deploy@203.0.113.11:2222\n');
    const deploy = await runCcom(['deploy', '-C', app.dir, '--json']);
    assert.equal(deploy.code, 2, deploy.stderr);
    assert.equal(deploy.json?.deployment?.status, 'blocked', deploy.stdout);
    assert.match(deploy.json.deployment.reason, /hosts: \(203\.0\.113\.10, deploy@203\.0\.113\.11:2222\), but deploying over SSH is not built yet/);
    assert.match(deploy.stderr, /fix: remove hosts: from ccom\.yaml to deploy on this machine/);
    for (const command of ['status', 'doctor', 'rollback', 'logs', 'down']) {
      const run = await runCcom([command, '-C', app.dir]);
      assert.equal(run.code, 2, `${command}: ${run.stderr}`);
      assert.match(run.stderr, /deploying over SSH is not built yet/, command);
    }
    assert.ok(!existsSync(app.state), 'a blocked command created the state directory');
  } finally {
    await app.cleanup();
  }
});

test('a host that is not [user@]host[:port] is a config error naming the key', { timeout: 30_000 }, async () => {
  const app = fixtureApp('v1');
  try {
    app.config('hosts:\n  - "deploy@@nowhere"\n');
    const run = await runCcom(['deploy', '-C', app.dir]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /hosts\[0\]: got "deploy@@nowhere", expected a host like 203\.0\.113\.10/);
  } finally {
    await app.cleanup();
  }
});

test('a deployed app whose ccom.yaml broke or went away can still be stopped with down', { timeout: 60_000 }, async () => {
  const app = fixtureApp('v1');
  try {
    app.config();
    const deploy = await runCcom(['deploy', '-C', app.dir, '--json']);
    assert.equal(deploy.code, 0, deploy.stderr);
    writeFileSync(join(app.dir, 'ccom.yaml'), 'app: fixture\nstart: [\n');
    const down = await runCcom(['down', '-C', app.dir, '--json']);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stderr, /stopping what runs on this machine/);
    assert.equal(down.json?.stopped, 2, down.stdout);
    await assert.rejects(fetch(deploy.json.deployment.url), 'nothing answers on the URL');
  } finally {
    await app.cleanup();
  }
});
