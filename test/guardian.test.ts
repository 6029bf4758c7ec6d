import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createServer } from 'node:net';
import { AGENT_START_FAILED, spawnGuardedAgent, type HeldSocket } from '../src/agent/guardian.js';
import { listeningFd } from '../src/agent/held-socket.js';
import { pinStateDir } from '../src/app-state.js';

/**
 * The guardian with a stand-in agent: a script that records each run (and whether it was the
 * handover run) in runs.log, then ends the way the test asks for that run.
 */
const FAKE_AGENT = `
const { appendFileSync, readFileSync, readlinkSync } = require('node:fs');
const dir = process.argv[process.argv.indexOf('--dir') + 1];
let fd4 = 'none';
try { fd4 = readlinkSync('/proc/self/fd/4'); } catch {}
appendFileSync(dir + '/held.log', fd4 + ' ' + (process.env.CCOM_AGENT_PUBLIC_SOCKET ?? '-') + '\\n');
appendFileSync(dir + '/runs.log', (process.env.CCOM_AGENT_HANDOVER ?? '-') + '\\n');
const runs = readFileSync(dir + '/runs.log', 'utf8').trim().split('\\n').length;
const plan = readFileSync(dir + '/plan', 'utf8').trim().split(' ');
const step = plan[Math.min(runs, plan.length) - 1];
if (step === 'kill') process.kill(process.pid, 'SIGKILL');
else process.exit(Number(step));
`;

async function guard(plan: string, handover = false, held?: HeldSocket): Promise<{ code: number | null; runs: string[]; log: string; held: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'ccom-guardian-'));
  pinStateDir(dir, join(dir, 'state'));
  mkdirSync(join(dir, 'state'));
  try {
    writeFileSync(join(dir, 'agent.cjs'), FAKE_AGENT);
    writeFileSync(join(dir, 'plan'), plan);
    let log = '';
    const child = spawnGuardedAgent({ appDir: dir, agentScript: join(dir, 'agent.cjs'), stdio: ['ignore', 'pipe', 'inherit'], handover, held });
    child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    const runs = readFileSync(join(dir, 'runs.log'), 'utf8').trim().split('\n');
    return { code, runs, log, held: readFileSync(join(dir, 'held.log'), 'utf8').trim().split('\n') };
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

test('every agent the guardian starts inherits the public socket it holds, at fd 4, with its address', { timeout: 20_000 }, async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  try {
    const { runs, held } = await guard('kill kill 0', true, { fd: listeningFd(server) as number, host: '127.0.0.1', port });
    assert.equal(runs.length, 3);
    const [socket, address] = (held[0] ?? '').split(' ');
    assert.match(socket ?? '', /^socket:\[\d+\]$/, 'the first run has the socket at fd 4');
    assert.deepEqual(JSON.parse(address ?? 'null'), { host: '127.0.0.1', port });
    assert.deepEqual(held, [held[0], held[0], held[0]], 'the same socket and address in every run, after each kill');
  } finally {
    server.close();
  }
});

test('without a socket to hold, agents are told of none, whatever the environment says', { timeout: 20_000 }, async () => {
  process.env.CCOM_AGENT_PUBLIC_SOCKET = '{"host":"127.0.0.1","port":1}';
  try {
    const { held } = await guard('0');
    assert.deepEqual(held.map((line) => line.split(' ')[1]), ['-']);
  } finally {
    delete process.env.CCOM_AGENT_PUBLIC_SOCKET;
  }
});
