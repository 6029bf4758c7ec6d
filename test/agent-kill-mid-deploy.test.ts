import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { fixtureApp, processesUnder, type FixtureApp } from './helpers/fixture-app.js';
import { ccomEnv, runCcom, type CcomRun } from './helpers/ccom.js';

const BIN = fileURLToPath(new URL('../bin/ccom.js', import.meta.url));
const TRIALS = 20;
/**
 * The guardian gives up after 5 restarts within 60 s: kills are spaced so it never has to, and
 * the trials are shared by four apps (each its own agent and guardian) to take a quarter of the time.
 */
const KILL_SPACING_MS = 13_000;
const APPS = 4;

let apps: FixtureApp[] = [];
before(() => {
  apps = Array.from({ length: APPS }, () => fixtureApp('v0'));
});
after(async () => {
  for (const app of apps) await app.cleanup();
});

function agentPid(app: FixtureApp): number {
  return Number(readFileSync(join(app.state, 'agent.pid'), 'utf8'));
}

/** A deploy whose agent is killed with -9 `killAfterMs` after it began. */
async function deployKillingAgent(app: FixtureApp, killAfterMs: number): Promise<CcomRun & { killed: boolean }> {
  const child = spawn(process.execPath, [BIN, 'deploy', '-C', app.dir, '--json'], { env: ccomEnv(['-C', app.dir]), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c));
  child.stderr.on('data', (c: Buffer) => (stderr += c));
  let killed = false;
  const timer = setTimeout(() => {
    try {
      process.kill(agentPid(app), 'SIGKILL');
      killed = true;
    } catch {
      /* between agents: nothing to kill this time */
    }
  }, killAfterMs);
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  clearTimeout(timer);
  return { code, stdout, stderr, json: JSON.parse(stdout || 'null'), killed };
}

test(`an agent killed with -9 at a random moment of a deploy (${TRIALS} trials): never a false exit 3, nothing runs that ccom does not know`, { timeout: TRIALS * 60_000 }, async () => {
  const outcomes = (await Promise.all(apps.map((app, n) => trials(app, n, TRIALS / APPS)))).flat();
  process.stderr.write(`exit codes of ${TRIALS} deploys with the agent killed: ${outcomes.join(', ')}\n`);
});

async function trials(app: FixtureApp, n: number, count: number): Promise<string[]> {
  const first = await runCcom(['deploy', '-C', app.dir, '--json']);
  assert.equal(first.code, 0, first.stderr);
  const t0 = Date.now();
  app.write('v1');
  assert.equal((await runCcom(['deploy', '-C', app.dir])).code, 0);
  const deployMs = Date.now() - t0;
  const outcomes: string[] = [];
  for (let i = 0; i < count; i++) {
    const trial = `${n}.${i}`;
    const started = Date.now();
    app.write(`v${i + 2}`);
    const run = await deployKillingAgent(app, Math.floor(Math.random() * deployMs));
    outcomes.push(`${run.code}${run.killed ? '' : ' (not killed)'}`);
    assert.ok(run.code === 0 || run.code === 1, `trial ${trial}: exit ${run.code}\n${run.stderr}`);

    // What runs in the app's directory is exactly the agent, its guardian and the instances
    // `ccom status` reports, all of the live release (verified by pid from /proc).
    const status = await runCcom(['status', '-C', app.dir, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const live = status.json.releases.filter((r: { weight: number }) => r.weight > 0);
    assert.equal(live.length, 1, `trial ${trial}: one release serves`);
    const known = new Set<number>([agentPid(app), ...live[0].instances.map((i: { pid: number }) => i.pid)]);
    // Instances run in their release under the app's home, the agent in the app's directory.
    const stray = (await processesUnder([app.dir, app.home], 5_000)).filter((pid) => !known.has(pid) && !isGuardian(pid));
    assert.deepEqual(stray, [], `trial ${trial} (exit ${run.code}): processes running that ccom reports as stopped or does not know`);
    await new Promise((r) => setTimeout(r, Math.max(0, KILL_SPACING_MS - (Date.now() - started))));
  }
  return outcomes;
}

function isGuardian(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('agent-guardian.sh');
  } catch {
    return false;
  }
}
