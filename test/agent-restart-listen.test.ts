import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fixtureApp, type FixtureApp } from './helpers/fixture-app.js';
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
  return Number(readFileSync(join(app.dir, '.ccom', 'agent.pid'), 'utf8'));
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
