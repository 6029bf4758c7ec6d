import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
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
    rmSync(join(app.dir, '.ccom', 'releases', release), { recursive: true, force: true });
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
    const agentLog = readFileSync(join(app.dir, '.ccom', 'logs', 'agent.log'), 'utf8');
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

/** An app that, `hogAfterMs` after it listens (never, if absent), holds ~120 MB resident for good. */
function hogSource(version: string, hogAfterMs?: number): string {
  return `
const http = require('node:http');
const held = [];
const server = http.createServer((req, res) => { res.writeHead(200); res.end(req.url === '/healthz' ? 'ok' : 'ok ${version}'); });
server.listen(Number(process.env.PORT), '127.0.0.1', () => {
  ${hogAfterMs === undefined ? '' : `setTimeout(() => { for (let i = 0; i < 12; i++) held.push(Buffer.alloc(10e6, i + 1)); }, ${hogAfterMs});`}
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
      ['1', /limits\.memory of 1 bytes is below the minimum of 16MB, .*: set limits\.memory above what the app uses/],
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
    writeFileSync(join(app.dir, 'server.js'), hogSource('v1', 1500));
    writeFileSync(join(app.dir, 'ccom.yaml'), `${readFileSync(join(app.dir, 'ccom.yaml'), 'utf8').replace('instances: 2', 'instances: 1')}limits:\n  memory: 80MB\n`);
    const run = await runCcom(['deploy', '-C', app.dir, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const agentLog = join(app.dir, '.ccom', 'logs', 'agent.log');
    await until('the second backoff', 40_000, async () => (/waiting 2s before starting it again/.test(readFileSync(agentLog, 'utf8')) ? true : undefined));
    const log = readFileSync(agentLog, 'utf8');
    assert.match(log, /went over limits\.memory 2 times in a row; waiting 1s before starting it again \(raise limits\.memory/);
    assert.ok(log.indexOf('waiting 1s') < log.indexOf('waiting 2s'));
  } finally {
    await app.cleanup();
  }
});
