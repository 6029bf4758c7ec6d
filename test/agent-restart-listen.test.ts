import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BASE_CONFIG, fixtureApp, type FixtureApp } from './helpers/fixture-app.js';
import { isGuardian, parentOf, runCcom } from './helpers/ccom.js';
import { startRestartLoad } from './helpers/restart-load.js';

let app: FixtureApp;
before(() => {
  app = fixtureApp('v1');
});
after(async () => {
  await app.cleanup();
});

/** The guardian gives up after 5 restarts within 60 s: this stays well below. */
const KILLS = 3;

function agentPid(): number {
  return Number(readFileSync(join(app.state, 'agent.pid'), 'utf8'));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The sockets `pid` has open, as `socket:[inode]`. */
function socketsOf(pid: number): string[] {
  const dir = `/proc/${pid}/fd`;
  return readdirSync(dir)
    .map((fd) => {
      try {
        return readlinkSync(join(dir, fd));
      } catch {
        return '';
      }
    })
    .filter((link) => link.startsWith('socket:'));
}

async function until(what: string, check: () => boolean, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${withinMs}ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('an agent killed with -9 under keep-alive and fresh-connection load: no refused connection, no failed request', { timeout: 120_000 }, async (t) => {
  const deployed = await runCcom(['deploy', '-C', app.dir, '--json']);
  assert.equal(deployed.code, 0, deployed.stderr);
  const url: string = deployed.json.deployment.url;
  const guardian = parentOf(agentPid());
  assert.ok(isGuardian(guardian), 'the agent runs under its guardian');
  const status = (await runCcom(['status', '-C', app.dir, '--json'])).json;
  const instances: number[] = status.releases[0].instances.map((i: { pid: number }) => i.pid);

  const load = startRestartLoad(url, { keepAlive: 4, fresh: 4 });
  try {
    await until('load is served', () => load.report.ok > 200, 10_000);
    for (let kill = 1; kill <= KILLS; kill++) {
      const victim = agentPid();
      process.kill(victim, 'SIGKILL');
      await until(`agent ${victim} gone`, () => !alive(victim), 5_000);
      // No ccom command in between: the guardian alone starts the next agent.
      await until(`kill ${kill}: a new agent`, () => agentPid() !== victim && alive(agentPid()), 10_000);
      const served = load.report.ok;
      await until(`kill ${kill}: serving again`, () => load.report.ok > served + 200, 10_000);
      await new Promise((r) => setTimeout(r, 1_000));
    }
  } finally {
    await load.stop();
  }
  const report = load.report;
  t.diagnostic(`requests ok ${report.ok}, failed ${report.failed}, refused ${report.refused}, retried after a reset ${report.retried}, longest wait ${report.maxWaitMs}ms`);
  assert.equal(report.refused, 0, `connections refused while the agent was down: ${JSON.stringify(report.failures)}`);
  assert.equal(report.failed, 0, `failed requests: ${JSON.stringify(report.failures)}`);
  assert.ok(report.ok > 600, `load ran (${report.ok} requests)`);

  assert.equal(parentOf(agentPid()), guardian, 'the same guardian restarted the agent every time');
  const held = readlinkSync(`/proc/${guardian}/fd/4`);
  assert.match(held, /^socket:/, 'the guardian holds the public socket');
  // The agent's descriptor is close-on-exec: instances (which outlive agents) never hold the port.
  for (const pid of instances.filter(alive)) assert.ok(!socketsOf(pid).includes(held), `instance ${pid} does not hold the public socket`);
});

/** A port free right now on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** How a connection to `port` ends: refused, or answered (any bytes) within a second, or left waiting. */
function probe(port: number): Promise<'refused' | 'answered' | 'waiting'> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'));
    const timer = setTimeout(() => done('waiting'), 1_000);
    const done = (how: 'refused' | 'answered' | 'waiting') => {
      clearTimeout(timer);
      socket.destroy();
      resolve(how);
    };
    socket.once('data', () => done('answered'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'refused' : 'answered'));
  });
}

test('the public port moved by a deploy: the old port is let go, and a kill -9 refuses nothing on the new one', { timeout: 150_000 }, async (t) => {
  const moving = fixtureApp('v1');
  t.after(() => moving.cleanup());
  const [first, second] = [await freePort(), await freePort()];
  const setPort = (port: number) => writeFileSync(join(moving.dir, 'ccom.yaml'), BASE_CONFIG.replace('proxy:\n  port: 0', `proxy:\n  port: ${port}`));
  setPort(first);
  assert.equal((await runCcom(['deploy', '-C', moving.dir])).code, 0);
  setPort(second);
  const moved = await runCcom(['deploy', '-C', moving.dir, '--json']);
  assert.equal(moved.code, 0, moved.stderr);
  assert.equal(moved.json.deployment.url, `http://127.0.0.1:${second}`);

  // Within the handing-over agent's drain bound (30 s), nothing holds the old port any more.
  let old: string = await probe(first);
  for (let i = 0; i < 80 && old !== 'refused'; i++) {
    await new Promise((r) => setTimeout(r, 500));
    old = await probe(first);
  }
  assert.equal(old, 'refused', `port ${first} is let go after the move`);

  const load = startRestartLoad(`http://127.0.0.1:${second}`, { keepAlive: 2, fresh: 2 });
  try {
    await until('load is served', () => load.report.ok > 100, 10_000);
    const victim = Number(readFileSync(join(moving.state, 'agent.pid'), 'utf8'));
    process.kill(victim, 'SIGKILL');
    const served = load.report.ok;
    await until('serving again', () => load.report.ok > served + 100, 15_000);
  } finally {
    await load.stop();
  }
  t.diagnostic(`after the move: ok ${load.report.ok}, refused ${load.report.refused}, retried ${load.report.retried}`);
  assert.equal(load.report.refused, 0, `refused on the new port: ${JSON.stringify(load.report.failures)}`);
  assert.equal(load.report.failed, 0, `failed requests: ${JSON.stringify(load.report.failures)}`);
});
