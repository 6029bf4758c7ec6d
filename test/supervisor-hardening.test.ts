import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
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
