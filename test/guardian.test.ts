import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AGENT_START_FAILED, spawnGuardedAgent } from '../src/agent/guardian.js';
import { pinStateDir } from '../src/app-state.js';

/**
 * The guardian with a stand-in agent: a script that records each run (and whether it was the
 * handover run) in runs.log, then ends the way the test asks for that run.
 */
const FAKE_AGENT = `
const { appendFileSync, readFileSync } = require('node:fs');
const dir = process.argv[process.argv.indexOf('--dir') + 1];
appendFileSync(dir + '/runs.log', (process.env.CCOM_AGENT_HANDOVER ?? '-') + '\\n');
const runs = readFileSync(dir + '/runs.log', 'utf8').trim().split('\\n').length;
const plan = readFileSync(dir + '/plan', 'utf8').trim().split(' ');
const step = plan[Math.min(runs, plan.length) - 1];
if (step === 'kill') process.kill(process.pid, 'SIGKILL');
else process.exit(Number(step));
`;

async function guard(plan: string, handover = false): Promise<{ code: number | null; runs: string[]; log: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ccom-guardian-'));
  pinStateDir(dir, join(dir, 'state'));
  mkdirSync(join(dir, 'state'));
  try {
    writeFileSync(join(dir, 'agent.cjs'), FAKE_AGENT);
    writeFileSync(join(dir, 'plan'), plan);
    let log = '';
    const child = spawnGuardedAgent({ appDir: dir, agentScript: join(dir, 'agent.cjs'), stdio: ['ignore', 'pipe', 'inherit'], handover });
    child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    const runs = readFileSync(join(dir, 'runs.log'), 'utf8').trim().split('\n');
    return { code, runs, log };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('an agent that stops on request (exit 0) is not started again', { timeout: 20_000 }, async () => {
  const { code, runs } = await guard('0');
  assert.deepEqual([code, runs.length], [0, 1]);
});

test('an agent that could not start is not retried: the command that started it reports why', { timeout: 20_000 }, async () => {
  const { code, runs } = await guard(String(AGENT_START_FAILED));
  assert.deepEqual([code, runs.length], [AGENT_START_FAILED, 1]);
});

test('an agent killed with -9 or crashed is started again, without the handover it began with', { timeout: 20_000 }, async () => {
  const { code, runs, log } = await guard('kill 1 0', true);
  assert.equal(code, 0);
  assert.deepEqual(runs, ['1', '-', '-'], 'only the first run took over from an older agent');
  assert.match(log, /the agent exited with code 137; starting it again/);
  assert.match(log, /the agent exited with code 1; starting it again/);
});

test('an agent that keeps dying is given up on after 5 restarts in a minute, saying so', { timeout: 20_000 }, async () => {
  const { code, runs, log } = await guard('1');
  assert.equal(code, 1);
  assert.equal(runs.length, 6);
  assert.match(log, /the 6th time within 60 s; not restarting it again/);
});
