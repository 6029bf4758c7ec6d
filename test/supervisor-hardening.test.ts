import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixtureApp } from './helpers/fixture-app.js';
import { get, runCcom } from './helpers/ccom.js';

/** `ccom status --json`, asserted to succeed. */
async function status(dir: string) {
  const r = await runCcom(['status', '-C', dir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return r.json;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('a live release whose directory is gone: the killed instance is marked failed, the agent serves on, nothing is orphaned', { timeout: 120_000 }, async () => {
  const app = fixtureApp('v1');
  try {
    const first = await runCcom(['deploy', '-C', app.dir, '--json']);
    assert.equal(first.code, 0, first.stderr);
    const { url, release } = first.json.deployment;
    const before = await status(app.dir);
    const [victim, survivor] = before.releases[0].instances;
    // What ccom's own disk-full hint invites: pruning releases, here the live one.
    rmSync(join(app.state, 'releases', release), { recursive: true, force: true });
    process.kill(victim.pid, 'SIGKILL');
    const failed = await until('the killed instance to be marked failed', 20_000, async () => {
      const s = await status(app.dir);
      const row = s.releases[0]?.instances.find((i: { id: string }) => i.id === victim.id);
      return row?.state === 'failed' ? { s, row } : undefined;
    });
    assert.match(failed.row.problem, /release directory .* is missing; fix: deploy again/);
    assert.equal(failed.s.agent.pid, before.agent.pid, 'the agent did not die');
    assert.equal(failed.s.agent.restarts, 0, 'the guardian never had to start the agent again');
    assert.deepEqual(await get(url), { status: 200, body: 'ok v1' }, 'the other instance serves');
    assert.ok(failed.s.releases[0].instances.some((i: { id: string; state: string }) => i.id === survivor.id && i.state === 'healthy'));
    const agentLog = readFileSync(join(app.state, 'logs', 'agent.log'), 'utf8');
    assert.match(agentLog, new RegExp(`instance ${victim.id} of release ${release} cannot be started again: its release directory`));
    // A new deploy replaces the broken release; rolling back to the pruned one is refused plainly.
    app.write('v2');
    const redeploy = await runCcom(['deploy', '-C', app.dir, '--json']);
    assert.equal(redeploy.code, 0, redeploy.stderr);
    assert.deepEqual(await get(url), { status: 200, body: 'ok v2' });
    const back = await runCcom(['rollback', '-C', app.dir, '--json']);
    assert.equal(back.code, 2, back.stderr);
    assert.match(back.stderr, /was pruned: its directory .* is gone/);
    assert.deepEqual(await get(url), { status: 200, body: 'ok v2' });
  } finally {
    await app.cleanup(); // fails the test if `down` left any process running in the app dir
  }
});

/**
 * A real app: `/` answers `ok <version>`. With `hogAfterMs` it holds ~120 MB resident that long
 * after it listens; with `logEachRequest` it writes a line to stdout for every request; with
 * `tickEveryMs` it writes numbered lines on its own.
 */
function appSource(version: string, opts: { hogAfterMs?: number; logEachRequest?: boolean; tickEveryMs?: number }): string {
  return `
const http = require('node:http');
${opts.tickEveryMs ? `let tick = 0; setInterval(() => console.log('tick ' + ++tick), ${opts.tickEveryMs});` : ''}
const held = [];
const server = http.createServer((req, res) => {
  ${opts.logEachRequest ? "if (req.url !== '/healthz') console.log('served ' + req.url + ' ' + 'x'.repeat(200));" : ''}
  res.writeHead(200);
  res.end(req.url === '/healthz' ? 'ok' : 'ok ${version}');
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => {
  console.log('listening on', process.env.PORT);
  ${opts.hogAfterMs === undefined ? '' : `setTimeout(() => { for (let i = 0; i < 12; i++) held.push(Buffer.alloc(10e6, i + 1)); }, ${opts.hogAfterMs});`}
});
process.on('SIGTERM', () => process.exit(0));
`;
}

test('limits.memory below what new instances use fails the deploy before traffic moves; never "All systems green"', { timeout: 120_000 }, async () => {
  const app = fixtureApp('v1');
  try {
    const first = await runCcom(['deploy', '-C', app.dir, '--json']);
    assert.equal(first.code, 0, first.stderr);
    const { url } = first.json.deployment;
    for (const [memory, reason] of [
      ['20MB', /uses \d+MB of memory, above limits\.memory of 20MB, .*: raise limits\.memory above the app's use \(\d+MB/],
    ] as const) {
      app.write(`v-${memory}`);
      writeFileSync(join(app.dir, 'ccom.yaml'), `${readFileSync(join(app.dir, 'ccom.yaml'), 'utf8').replace(/\nlimits:[\s\S]*$/, '')}\nlimits:\n  memory: ${memory}\n`);
      const run = await runCcom(['deploy', '-C', app.dir, '--json']);
      assert.equal(run.code, 1, `limits.memory ${memory}: ${run.stderr}`);
      assert.doesNotMatch(run.stderr, /All systems green/);
      assert.equal(run.json.deployment.status, 'rolled_back');
      assert.match(run.json.deployment.reason, reason);
      assert.deepEqual(await get(url), { status: 200, body: 'ok v1' }, 'the previous release serves');
      const switched = run.json.deployment.steps.some((s: { name: string }) => s.name === 'switch');
      assert.equal(switched, false, 'traffic never moved');
    }
  } finally {
    await app.cleanup();
  }
});

test('an instance that keeps going over limits.memory is restarted with a growing backoff, and the agent log says so', { timeout: 120_000 }, async () => {
  const app = fixtureApp('v1');
  try {
    // It fits at boot (the deploy's check passes), then outgrows the limit every time, 1.5 s in.
    writeFileSync(join(app.dir, 'server.js'), appSource('v1', { hogAfterMs: 1500 }));
    writeFileSync(join(app.dir, 'ccom.yaml'), `${readFileSync(join(app.dir, 'ccom.yaml'), 'utf8').replace('instances: 2', 'instances: 1')}limits:\n  memory: 80MB\n`);
    const run = await runCcom(['deploy', '-C', app.dir, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const agentLog = join(app.state, 'logs', 'agent.log');
    await until('the second backoff', 40_000, async () => (/waiting 2s before starting it again/.test(readFileSync(agentLog, 'utf8')) ? true : undefined));
    const log = readFileSync(agentLog, 'utf8');
    assert.match(log, /went over limits\.memory 2 times in a row; waiting 1s before starting it again \(raise limits\.memory/);
    assert.ok(log.indexOf('waiting 1s') < log.indexOf('waiting 2s'));
  } finally {
    await app.cleanup();
  }
});

/** Fills the file system holding `dir` to the last byte. */
function fill(dir: string): void {
  const file = join(dir, 'filler');
  for (const size of [64 * 1024 * 1024, 4096, 1]) {
    try {
      for (;;) appendFileSync(file, Buffer.alloc(size));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    }
  }
}

test('a full disk under the logs: the app keeps serving, its lines are dropped (and counted) until there is space again', { timeout: 120_000 }, async () => {
  const app = fixtureApp('v1');
  const logs = join(app.state, 'logs');
  let mounted = false;
  try {
    const first = await runCcom(['deploy', '-C', app.dir, '--json']);
    assert.equal(first.code, 0, first.stderr);
    const { url } = first.json.deployment;
    // From now on new instances log onto a 1 MB file system (the agent's own log stays where it was).
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', logs]);
    mounted = true;
    writeFileSync(join(app.dir, 'server.js'), appSource('v2', { logEachRequest: true }));
    const second = await runCcom(['deploy', '-C', app.dir, '--json']);
    assert.equal(second.code, 0, second.stderr);
    const v2 = second.json.deployment.release;
    fill(logs);
    const statuses = new Map<string, number>();
    for (let n = 0; n < 300; n++) {
      const res = await get(`${url}/page-${n}`).catch((err: Error) => ({ status: 0, body: String(err.cause ?? err) }));
      const key = `${res.status} ${res.body}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    }
    assert.deepEqual([...statuses], [['200 ok v2', 300]], 'every request during the full disk was served');
    const s = await status(app.dir);
    assert.deepEqual(s.releases[0].instances.map((i: { restarts: number }) => i.restarts), [0, 0], 'no instance died');
    const agentLog = readFileSync(`/proc/${s.agent.pid}/fd/1`, 'utf8');
    assert.match(agentLog, /no space left on device.*dropping the instance's log lines until it can/i);
    // Space again: lines are written again, and `ccom logs` shows them.
    rmSync(join(logs, 'filler'));
    await get(`${url}/after-space-freed`);
    await until('the log line after space was freed', 10_000, async () => {
      const r = await runCcom(['logs', '-C', app.dir, '--release', v2, '--lines', '5']);
      return r.stdout.includes('served /after-space-freed') ? true : undefined;
    });
    assert.match(readFileSync(`/proc/${s.agent.pid}/fd/1`, 'utf8'), /is written again; \d+ line\(s\) were dropped meanwhile/);
  } finally {
    await runCcom(['down', '-C', app.dir]);
    if (mounted) execFileSync('umount', ['-l', logs]);
    await app.cleanup();
  }
});

test('a full disk under the state: commands say the disk is full, not that the history may be corrupt', { timeout: 60_000 }, async () => {
  const app = fixtureApp('v1');
  const state = app.state;
  mkdirSync(state, { recursive: true, mode: 0o700 });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', state]);
  try {
    fill(state);
    // deploy, the command that writes history (`releases` of a never-deployed app now opens none).
    const r = await runCcom(['deploy', '-C', app.dir]);
    assert.equal(r.code, 2, r.stderr);
    // Whichever write meets the full disk first (the state dir's owner record, or the database):
    // the cause and the fix are the disk, never a corrupt history.
    assert.match(r.stderr, /the disk is full/);
    assert.match(r.stderr, /free disk space/i);
    assert.doesNotMatch(r.stderr, /corrupt, move|move .* aside/);
  } finally {
    execFileSync('umount', ['-l', state]);
    await app.cleanup();
  }
});

test('instance output written while the agent is killed with -9 waits in its pipe and reaches the log, in order, nothing lost', { timeout: 90_000 }, async () => {
  const app = fixtureApp('v1');
  try {
    writeFileSync(join(app.dir, 'server.js'), appSource('v1', { tickEveryMs: 10 }));
    writeFileSync(join(app.dir, 'ccom.yaml'), readFileSync(join(app.dir, 'ccom.yaml'), 'utf8').replace('instances: 2', 'instances: 1'));
    const run = await runCcom(['deploy', '-C', app.dir, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const before = await status(app.dir);
    const instance = before.releases[0].instances[0];
    const logFile = join(app.state, 'logs', run.json.deployment.release, `${instance.id}.log`);
    const ticks = () => [...readFileSync(logFile, 'utf8').matchAll(/^(?:\S+ )?tick (\d+)$/gm)].map((m) => Number(m[1]));
    process.kill(before.agent.pid, 'SIGKILL');
    const atKill = ticks().length;
    const after = await until('the agent started again', 20_000, async () => {
      const s = await status(app.dir);
      return s.agent.pid !== before.agent.pid ? s : undefined;
    });
    assert.equal(after.releases[0].instances[0].pid, instance.pid, 'the instance lived through it (no EPIPE) and was adopted');
    const seen = await until('ticks written after the restart', 20_000, async () => {
      const t = ticks();
      return t.length > atKill + 50 ? t : undefined;
    });
    assert.deepEqual(seen, seen.map((_, i) => i + 1), 'every line, in order, none lost or doubled');
  } finally {
    await app.cleanup();
  }
});

