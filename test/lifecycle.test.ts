import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fixtureApp, type FixtureApp } from './helpers/fixture-app.js';
import { get, isGuardian, parentOf, runCcom } from './helpers/ccom.js';
import { startWebhook, type Webhook } from './helpers/ops-tools.js';

let app: FixtureApp;
/** Receives what the app's alerts.webhook is sent. */
let webhook: Webhook;
before(async () => {
  webhook = await startWebhook();
  app = fixtureApp('v1');
  app.config(`alerts:\n  webhook: ${webhook.url}\n`);
});
after(async () => {
  await app.cleanup();
  await webhook.close();
});

/** Running, not a zombie: orphans re-parented to this sandbox's init are never reaped. */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

test('deploy, redeploy, rollback, agent killed with -9, down', async (t) => {
  const first = await runCcom(['deploy', '-C', app.dir, '--json']);
  assert.equal(first.code, 0, first.stderr);
  const d1 = first.json.deployment;
  assert.equal(d1.status, 'succeeded');
  assert.match(first.stderr, /^🚀 CCOM DEPLOYMENT – Launching fixture with enterprise-grade deployment\.\.\./m);
  assert.match(first.stderr, /^🎉 Your app is live at http:\/\/127\.0\.0\.1:\d+! All systems green\./m);
  const url: string = d1.url;
  assert.equal((await get(url)).body, 'ok v1');

  await t.test('a redeploy switches traffic and stops the old set', async () => {
    app.write('v2');
    const second = await runCcom(['deploy', '-C', app.dir, '--json']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.json.deployment.previous, d1.release);
    assert.equal(second.json.deployment.url, url, 'the public URL stays the same');
    assert.equal((await get(url)).body, 'ok v2');
    const status = (await runCcom(['status', '-C', app.dir, '--json'])).json;
    assert.equal(status.live, second.json.deployment.release);
    assert.deepEqual(status.releases.map((r: { id: string; weight: number }) => [r.id, r.weight]), [[second.json.deployment.release, 100]]);
    assert.equal(status.releases[0].instances.length, 2);
    const steps = second.json.deployment.steps.map((s: { name: string }) => s.name);
    assert.deepEqual(steps.slice(-6), ['start', 'smoke:preview', 'warm', 'switch', 'smoke:public', 'drain']);
  });

  await t.test('rollback brings the previous release back, checked first', async () => {
    const rb = await runCcom(['rollback', '-C', app.dir, '--json']);
    assert.equal(rb.code, 0, rb.stderr);
    assert.equal(rb.json.deployment.release, d1.release);
    assert.equal((await get(url)).body, 'ok v1');
    const releases = (await runCcom(['releases', '-C', app.dir, '--json'])).json.releases;
    const byId = Object.fromEntries(releases.map((r: { id: string; status: string }) => [r.id, r.status]));
    assert.equal(byId[d1.release], 'live');
    assert.equal(Object.values(byId).filter((s) => s === 'replaced').length, 1, 'the release a manual rollback replaced is replaced, not rolled_back');
    for (const r of releases) assert.match(r.digest, /^sha256:[0-9a-f]{64}$/);
  });

  await t.test('the agent killed with -9 is started again by its guardian, re-adopts instances and serves', async () => {
    const before = (await runCcom(['status', '-C', app.dir, '--json'])).json;
    const pids = before.releases[0].instances.map((i: { pid: number }) => i.pid);
    const agentPid = Number(readFileSync(join(app.state, 'agent.pid'), 'utf8'));
    const guardian = parentOf(agentPid);
    assert.ok(isGuardian(guardian), 'the agent runs under its guardian');
    process.kill(agentPid, 'SIGKILL');
    while (pidAlive(agentPid)) await new Promise((r) => setTimeout(r, 20));
    // No ccom command in between: the port serves again on its own.
    let served: string | undefined;
    for (let i = 0; i < 100 && served === undefined; i++) {
      served = await get(url).then((r) => r.body, () => undefined);
      if (served === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(served, 'ok v1', 'serving again within 5 s');
    for (const pid of pids) assert.ok(pidAlive(pid), `instance ${pid} survived the agent`);
    const newAgent = Number(readFileSync(join(app.state, 'agent.pid'), 'utf8'));
    assert.notEqual(newAgent, agentPid);
    assert.equal(parentOf(newAgent), guardian, 'the same guardian started it');
    const after = (await runCcom(['status', '-C', app.dir, '--json'])).json;
    assert.equal(after.live, d1.release, 'routing state survived');
    assert.deepEqual(after.releases[0].instances.map((i: { pid: number }) => i.pid).sort(), [...pids].sort(), 're-adopted, not restarted');
    assert.match(readFileSync(join(app.state, 'logs', 'agent.log'), 'utf8'), /ccom guardian: the agent exited with code 137; starting it again/);
    assert.equal(after.agent.pid, newAgent);
    assert.equal(after.agent.restarts, 1, 'status tells the agent was started again');
    const alert = await webhook.waitFor((body: { event?: string }) => body.event === 'agent', 2_000).catch(() => undefined);
    assert.equal(alert?.status, 'restarted', 'the webhook heard of it');
    assert.match(String(alert?.reason), /exited with code 137 and its guardian started it again/);
  });

  await t.test('an instance that died while the agent was gone is started again', async () => {
    const before = (await runCcom(['status', '-C', app.dir, '--json'])).json;
    const [victim, survivor] = before.releases[0].instances;
    const agentPid = Number(readFileSync(join(app.state, 'agent.pid'), 'utf8'));
    process.kill(agentPid, 'SIGKILL');
    process.kill(victim.pid, 'SIGKILL');
    while (pidAlive(agentPid) || pidAlive(victim.pid)) await new Promise((r) => setTimeout(r, 20));
    await runCcom(['status', '-C', app.dir, '--json']);
    let now;
    for (let i = 0; i < 50; i++) {
      now = (await runCcom(['status', '-C', app.dir, '--json'])).json;
      if (now.releases[0].instances.every((x: { healthy: boolean }) => x.healthy)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const byId = Object.fromEntries(now.releases[0].instances.map((x: { id: string; pid: number }) => [x.id, x.pid]));
    assert.equal(byId[survivor.id], survivor.pid, 'the live instance was adopted');
    assert.ok(byId[victim.id] && byId[victim.id] !== victim.pid, 'the dead one was started again');
    assert.equal((await get(url)).body, 'ok v1');
  });

  await t.test('the control socket is private and logs show instance output', async () => {
    const mode = statSync(join(app.state, 'agent.sock')).mode & 0o777;
    assert.equal(mode, 0o600);
    assert.equal(statSync(app.state).mode & 0o077, 0, 'the state dir is private to the user');
    const logs = await runCcom(['logs', '-C', app.dir]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /\[\S+ i-[0-9a-f]+\] listening \d+ v1/);
  });

  await t.test('an instance that crashes in service is restarted', async () => {
    const status = (await runCcom(['status', '-C', app.dir, '--json'])).json;
    const victim = status.releases[0].instances[0];
    process.kill(victim.pid, 'SIGKILL');
    let restarted;
    for (let i = 0; i < 100 && !restarted; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const now = (await runCcom(['status', '-C', app.dir, '--json'])).json;
      restarted = now.releases[0].instances.find((x: { id: string; pid: number; healthy: boolean }) => x.id === victim.id && x.pid !== victim.pid && x.healthy);
    }
    assert.ok(restarted, 'the crashed instance came back with a new pid');
    assert.ok(restarted.restarts >= 1);
    assert.equal((await get(url)).body, 'ok v1');
  });

  await t.test('after a reboot (guardian, agent and instances all gone) status says so and `ccom up` brings the app back', async () => {
    const before = (await runCcom(['status', '-C', app.dir, '--json'])).json;
    const agentPid = Number(readFileSync(join(app.state, 'agent.pid'), 'utf8'));
    const all = [parentOf(agentPid), agentPid, ...before.releases[0].instances.map((i: { pid: number }) => i.pid)];
    for (const pid of all) process.kill(pid, 'SIGKILL');
    while (all.some(pidAlive)) await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(fetch(url), 'nothing serves after the "reboot"');
    const status = await runCcom(['status', '-C', app.dir, '--json']);
    assert.equal(status.code, 0, status.stderr);
    assert.equal(status.json.state, 'not running', 'status reports it and starts nothing');
    await assert.rejects(fetch(url), 'status started nothing');
    const up = await runCcom(['up', '-C', app.dir, '--json']);
    assert.equal(up.code, 0, up.stderr);
    let body: string | undefined;
    for (let i = 0; i < 100 && body !== 'ok v1'; i++) {
      body = await get(url).then((r) => r.body, () => undefined);
      if (body !== 'ok v1') await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(body, 'ok v1', 'the live release serves again on the same URL');
    const now = (await runCcom(['status', '-C', app.dir, '--json'])).json;
    assert.equal(now.live, d1.release);
    assert.equal(now.releases[0].instances.length, 2);
    for (const i of now.releases[0].instances) assert.ok(!all.includes(i.pid), 'instances were started again');
  });

  await t.test('down stops instances and agent, keeps history', async () => {
    const status = (await runCcom(['status', '-C', app.dir, '--json'])).json;
    const pids: number[] = status.releases[0].instances.map((i: { pid: number }) => i.pid);
    const agentPid = Number(readFileSync(join(app.state, 'agent.pid'), 'utf8'));
    const guardian = parentOf(agentPid);
    const down = await runCcom(['down', '-C', app.dir]);
    assert.equal(down.code, 0, down.stderr);
    // down returns once the agent and its guardian are gone: nothing to wait for.
    for (const pid of [...pids, agentPid, guardian]) assert.equal(pidAlive(pid), false, `pid ${pid} stopped`);
    const releases = (await runCcom(['releases', '-C', app.dir, '--json'])).json.releases;
    assert.equal(releases.length, 2);
  });
});
