import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fixtureApp, type FixtureApp } from './helpers/fixture-app.js';
import { get, runCcom } from './helpers/ccom.js';
import { floodConnections } from './helpers/connection-flood.js';

let app: FixtureApp;
before(() => {
  app = fixtureApp('v1');
});
after(async () => {
  await app.cleanup();
});

function agentPid(): number {
  return Number(readFileSync(join(app.state, 'agent.pid'), 'utf8'));
}

function openFilesLimit(pid: number): number {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  return Number(line?.split(/\s+/)[3]);
}

async function serves(url: string, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    const ok = await get(url).then((r) => r.status === 200, () => false);
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

test('20,000 connections against an agent limited to 1,024 open files: it survives and serves again once they close', { timeout: 180_000 }, async () => {
  const deployed = await runCcom(['deploy', '-C', app.dir, '--json'], {}, { fileLimit: 1024 });
  assert.equal(deployed.code, 0, deployed.stderr);
  const url: string = deployed.json.deployment.url;
  const pid = agentPid();
  assert.equal(openFilesLimit(pid), 1024, 'the agent runs at the lowered limit, so the flood exhausts it');

  const port = Number(new URL(url).port);
  // Two clients of 10,000: each stays below this machine's own per-process limit.
  const floods = [floodConnections(port, 10_000), floodConnections(port, 10_000)];
  const opened = await Promise.all(floods.map((f) => f.opened));
  // Held at the limit across several of the agent's 2 s ownership checks.
  await new Promise((r) => setTimeout(r, 6_000));
  const aliveDuringFlood = agentPid() === pid && readFileSync(`/proc/${pid}/stat`, 'utf8').length > 0;
  await Promise.all(floods.map((f) => f.release()));

  assert.ok(aliveDuringFlood, 'the agent kept running at the open-files limit');
  assert.ok(opened.reduce((n, o) => n + o.connected + o.failed, 0) === 20_000, 'every connection attempt settled');
  assert.ok(await serves(url, 20_000), 'the public port serves again once the connections closed');
  assert.equal(agentPid(), pid, 'the same agent serves: it neither exited nor was restarted');
  const log = readFileSync(join(app.state, 'logs', 'agent.log'), 'utf8');
  assert.doesNotMatch(log, /another agent owns this app now/);
  const status = await runCcom(['status', '-C', app.dir, '--json']);
  assert.equal(status.code, 0, status.stderr);
  assert.equal(status.json.agent?.pid ?? pid, pid);
});
