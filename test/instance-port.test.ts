import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { findInstancePort } from '../src/agent/instance-port.js';
import { runCcom } from './helpers/ccom.js';
import { fixtureApp } from './helpers/fixture-app.js';

after(() => {
  for (const f of readdirSync(tmpdir())) if (f.startsWith('ccom-port-taken-')) rmSync(join(tmpdir(), f), { force: true });
});

test('instance ports come from below the ephemeral range and are free', async () => {
  const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  for (let i = 0; i < 10; i++) {
    const port = await findInstancePort();
    assert.ok(port >= 20_000 && port < low, `port ${port} below ${low}`);
    await new Promise<void>((resolve, reject) => {
      const server = net.createServer().once('error', reject);
      server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
    });
  }
});

test('an instance whose port was taken before it listened boots again on another port', async () => {
  const app = fixtureApp('v1');
  try {
    app.write('v1', 'port-taken-once');
    const run = await runCcom(['deploy', '-C', app.dir, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const status = (await runCcom(['status', '-C', app.dir, '--json'])).json;
    assert.deepEqual(status.releases[0].instances.map((i: { healthy: boolean }) => i.healthy), [true, true]);
    const log = readFileSync(join(app.state, 'logs', 'agent.log'), 'utf8');
    assert.equal(log.match(/was taken before the app could listen on it; starting it on another port/g)?.length, 2, log);
  } finally {
    await app.cleanup();
  }
});

test('an app that always finds its port taken fails after three boots, naming the error', async () => {
  const app = fixtureApp('v1');
  try {
    app.write('v1', 'port-taken-always');
    const run = await runCcom(['deploy', '-C', app.dir, '--json']);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.json.deployment.reason, /crashed on boot/);
    assert.match(run.stderr, /EADDRINUSE/);
  } finally {
    await app.cleanup();
  }
});
