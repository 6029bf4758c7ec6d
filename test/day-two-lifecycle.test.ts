import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { get, runCcom, setCcomHome } from './helpers/ccom.js';
import { BASE_CONFIG, fixtureApp, type FixtureApp } from './helpers/fixture-app.js';
import { startLoad } from './helpers/load.js';

// Three apps in one CCOM_HOME, as one user's apps on one machine.
const home = mkdtempSync(join(tmpdir(), 'ccom-home-day-two-'));
const apps: FixtureApp[] = [];
after(async () => {
  for (const app of apps) await app.cleanup();
  rmSync(home, { recursive: true, force: true });
});

function appNamed(name: string, extra = ''): FixtureApp {
  const app = fixtureApp(`${name}-v1`);
  setCcomHome(app.dir, home);
  writeFileSync(join(app.dir, 'ccom.yaml'), BASE_CONFIG.replace('app: fixture', `app: ${name}`).replace('analysis:\n  watch: 0\n', extra || 'analysis:\n  watch: 0\n'));
  apps.push(app);
  return app;
}

/** Pids of processes running this app's guardian script (a started agent has one). */
function guardiansOf(app: FixtureApp): number[] {
  const script = join(app.state, 'agent-guardian.sh');
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(script);
    } catch {
      return false;
    }
  }).map(Number);
}

async function deployed(app: FixtureApp): Promise<string> {
  const run = await runCcom(['deploy', '-C', app.dir, '--json']);
  assert.equal(run.code, 0, run.stderr);
  return run.json.deployment.url;
}

test('ls, status after down, up, and restart under load', { timeout: 120_000 }, async (t) => {
  const serving = appNamed('serving-app');
  const stopped = appNamed('stopped-app');
  const watching = appNamed('watching-app', 'analysis:\n  watch: 60s\n');
  // Its directory is a git repository: the deploy records the commit it shipped.
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=dev@example.com', '-c', 'user.name=dev', ...args], { cwd: serving.dir, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-qm', 'First version');
  const url = await deployed(serving);
  const releases = await runCcom(['releases', '-C', serving.dir, '--json']);
  assert.deepEqual(releases.json.releases[0].git, { commit: git('rev-parse', 'HEAD'), branch: 'main', dirty: false, subject: 'First version' });
  await deployed(stopped);
  await deployed(watching);
  await deployed(watching); // its second deploy's watch runs for 60 s
  const down = await runCcom(['down', '-C', stopped.dir]);
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stderr, /`ccom up` starts it again/);

  // ls from anywhere, in three states, and it starts nothing.
  const ls = await runCcom(['ls', '--json', '-C', tmpdir()], { CCOM_HOME: home });
  assert.equal(ls.code, 0, ls.stderr);
  const byName = Object.fromEntries(ls.json.apps.map((a: { name: string }) => [a.name, a]));
  assert.deepEqual(Object.keys(byName).sort(), ['serving-app', 'stopped-app', 'watching-app']);
  assert.equal(byName['serving-app'].state, 'serving');
  assert.equal(byName['serving-app'].url, url);
  assert.equal(byName['serving-app'].dir, serving.dir);
  assert.deepEqual(byName['serving-app'].instances, { healthy: 2, total: 2 });
  assert.ok(byName['serving-app'].memoryBytes > 1e6, 'memory of its instances');
  assert.equal(byName['watching-app'].state, 'watching');
  assert.equal(byName['stopped-app'].state, 'stopped');
  assert.equal(byName['stopped-app'].url, null);
  const human = await runCcom(['ls', '-C', tmpdir()], { CCOM_HOME: home });
  assert.match(human.stderr, /^APP\s+STATE\s+URL\s+LIVE\s+UP\s+MEM\s+DIR$/m);
  assert.match(human.stderr, /^stopped-app\s+stopped\s/m);

  // status of the stopped app reports it and starts no agent.
  const status = await runCcom(['status', '-C', stopped.dir, '--json']);
  assert.equal(status.code, 0, status.stderr);
  assert.equal(status.json.state, 'stopped');
  assert.equal(status.json.resumable, byName['stopped-app'].live ?? status.json.resumable);
  assert.deepEqual(guardiansOf(stopped), [], 'ls and status started no agent for the stopped app');

  // up brings the release that down stopped back, on its URL.
  const up = await runCcom(['up', '-C', stopped.dir, '--json']);
  assert.equal(up.code, 0, up.stderr);
  assert.equal(up.json.how, 'started');
  // proxy.port is 0 here (any free port): a fixed port comes back as it was.
  assert.match(up.json.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal((await get(up.json.url)).body, 'ok stopped-app-v1');
  const again = await runCcom(['up', '-C', stopped.dir, '--json']);
  assert.equal(again.json.how, 'already serving');

  // restart under keep-alive load: every instance replaced, no request failed.
  const before = (await runCcom(['status', '-C', serving.dir, '--json'])).json.releases[0].instances.map((i: { pid: number }) => i.pid);
  const load = startLoad(url, 8);
  await new Promise((r) => setTimeout(r, 300));
  const restart = await runCcom(['restart', '-C', serving.dir, '--json']);
  await new Promise((r) => setTimeout(r, 300));
  const report = await load.stop();
  assert.equal(restart.code, 0, restart.stderr);
  assert.equal(restart.json.replaced.length, 2);
  const afterPids = (await runCcom(['status', '-C', serving.dir, '--json'])).json.releases[0].instances.map((i: { pid: number }) => i.pid);
  assert.equal(afterPids.filter((p: number) => before.includes(p)).length, 0, 'every instance was replaced');
  assert.ok(report.total > 100, `load ran (${report.total} requests)`);
  assert.equal(report.failed, 0, `failed requests during restart: ${JSON.stringify(report.failures)}`);
  t.diagnostic(`restart under 8 keep-alive clients: ${report.failed} of ${report.total} requests failed; ${restart.json.replaced.map((r: { durationMs: number }) => `${r.durationMs} ms`).join(', ')} per instance`);
});
