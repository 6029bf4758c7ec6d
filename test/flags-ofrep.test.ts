import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCcom } from './helpers/ccom.js';
import { ask, flagsApp, writeFlags } from './helpers/flags-app.js';

/**
 * Feature flags end to end: a real app using @openfeature/server-sdk and @openfeature/ofrep-provider
 * asks ccom's agent over OFREP; `ccom flags` changes its answers with no deploy.
 */
const app = flagsApp();
let url = '';

before(async () => {
  const first = await runCcom(['deploy', '-C', app.dir, '--json']);
  assert.equal(first.code, 0, first.stderr);
  url = first.json.deployment.url;
});
after(() => app.cleanup());

const flags = (...args: string[]) => runCcom(['flags', ...args, '-C', app.dir, '--json']);
const answer = async (cookie?: string) => (await ask(url, { cookie })).body.split(' ')[0];

test('ccom flags lists the live release\'s flags; set, rollout and off change answers at the next request, with no deploy', async () => {
  const listed = await flags();
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(listed.json.flags.map((f: { key: string }) => f.key), ['new-checkout', 'risky-search']);
  assert.equal(listed.json.flags[0].serving, 'variant off');

  const client = (await ask(url)).cookie;
  assert.match(client ?? '', /^ccom_bucket=\d+$/, 'a client without the cookie gets one');
  assert.equal(await answer(client), 'off');
  const set = await flags('set', 'new-checkout', 'on');
  assert.equal(set.code, 0, set.stderr);
  assert.equal(set.json.change.new.override.variant, 'on');
  // The provider evaluates over OFREP per call: the first request after the command sees the change.
  assert.equal(await answer(client), 'on');
  assert.match((await ask(url, { cookie: client })).body, /reason=STATIC/);
  const killed = await flags('off', 'new-checkout');
  assert.equal(killed.code, 0, killed.stderr);
  assert.equal(await answer(client), 'off');

  const bad = await flags('set', 'new-checkout', 'purple');
  assert.equal(bad.code, 2, 'an unknown variant changes nothing');
  assert.match(bad.stderr, /has no variant "purple" \(variants: on, off\)/);
  assert.equal((await flags('set', 'nope', 'on')).code, 2);
});

test('a rollout serves about its share of distinct clients, each keeps its variant, and inside 10% stays inside at 50%', async () => {
  assert.equal((await flags('rollout', 'new-checkout', '10%')).code, 0);
  const clients: { cookie: string; on: boolean }[] = [];
  for (let i = 0; i < 300; i++) {
    const first = await ask(url);
    clients.push({ cookie: first.cookie as string, on: first.body.startsWith('on ') });
  }
  const on = clients.filter((c) => c.on).length;
  assert.ok(on >= 12 && on <= 54, `about 10% of 300 fresh clients on (${on})`);
  for (const c of clients.slice(0, 40)) assert.equal(await answer(c.cookie), c.on ? 'on' : 'off', 'a client keeps its variant');
  assert.equal((await flags('rollout', 'new-checkout', '50%')).code, 0);
  for (const c of clients.filter((x) => x.on)) assert.equal(await answer(c.cookie), 'on', `${c.cookie} was on at 10% and stays on at 50%`);
  const bodies: string[] = [];
  for (const c of clients) bodies.push((await ask(url, { cookie: c.cookie })).body);
  const atHalf = bodies.filter((b) => b.startsWith('on ')).length;
  assert.ok(atHalf >= 120 && atHalf <= 180, `about half on at 50% (${atHalf}): ${bodies.filter((b) => !/reason=TARGETING_MATCH/.test(b)).slice(0, 3).join(' | ')}`);
  const listed = await flags();
  assert.equal(listed.json.flags[0].rollout, 50);
});

test('the proxy replaces a client-sent x-ccom-bucket with the cookie\'s bucket', async () => {
  const got = await ask(url, { cookie: 'ccom_bucket=4242', headers: { 'x-ccom-bucket': '7', 'X-Ccom-Bucket': '8' } });
  assert.match(got.body, / bucket=4242 /);
});

test('bulk OFREP answers 304 to its own ETag until a flag changes; single evaluations name unknown flags', async () => {
  const port = JSON.parse(readFileSync(join(app.state, 'flags-state.json'), 'utf8')).ofrepPort as number;
  const bulk = (etag?: string) => fetch(`http://127.0.0.1:${port}/ofrep/v1/evaluate/flags`, { method: 'POST', headers: { 'content-type': 'application/json', ...(etag ? { 'if-none-match': etag } : {}) }, body: JSON.stringify({ context: { targetingKey: '17' } }) });
  const first = await bulk();
  assert.equal(first.status, 200);
  const etag = first.headers.get('etag') as string;
  const body = (await first.json()) as { flags: { key: string }[] };
  assert.deepEqual(body.flags.map((f) => f.key), ['new-checkout', 'risky-search']);
  assert.equal((await bulk(etag)).status, 304);
  assert.equal((await flags('set', 'risky-search', 'on')).code, 0);
  const changed = await bulk(etag);
  assert.equal(changed.status, 200, 'a change gives a new ETag');
  assert.notEqual(changed.headers.get('etag'), etag);
  const missing = await fetch(`http://127.0.0.1:${port}/ofrep/v1/evaluate/flags/nope`, { method: 'POST', body: '{}' });
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { errorCode: string }).errorCode, 'FLAG_NOT_FOUND');
  assert.equal((await flags('clear', 'risky-search')).code, 0);
});

test('overrides survive a redeploy; history shows who changed what; a bad file blocks the deploy naming its JSON path', async () => {
  assert.equal((await flags('set', 'new-checkout', 'on')).code, 0);
  // kill -9 of the agent: its guardian starts it again; the running instances keep their OFREP_ENDPOINT.
  const stateFile = join(app.state, 'flags-state.json');
  const portBefore = JSON.parse(readFileSync(stateFile, 'utf8')).ofrepPort;
  process.kill(Number(readFileSync(join(app.state, 'agent.pid'), 'utf8')), 'SIGKILL');
  let afterRestart = '';
  for (let i = 0; i < 100 && afterRestart !== 'on'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    afterRestart = (await answer().catch(() => 'no answer')) ?? 'no answer';
  }
  assert.equal(afterRestart, 'on', 'the override outlives an agent restart, on the port the instances know');
  assert.equal(JSON.parse(readFileSync(stateFile, 'utf8')).ofrepPort, portBefore);
  const again = await runCcom(['deploy', '-C', app.dir, '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(await answer(), 'on', 'the override outlives the deploy');
  const status = await runCcom(['status', '-C', app.dir, '--json']);
  assert.equal(status.json.flags.overrides['new-checkout'].override.variant, 'on', 'status lists the flags changed at run time');
  const metrics = await (await fetch(new URL('/metrics', status.json.monitoring))).text();
  assert.match(metrics, /^ccom_flag_evaluations_total\{flag="new-checkout",variant="on"[^}]*\} [1-9]\d*$/m);

  const history = await flags('history', 'new-checkout');
  assert.equal(history.code, 0, history.stderr);
  const rows = history.json.history as { who: string; new: { override: { kind: string } } | null; reason: string | null }[];
  assert.ok(rows.length >= 5, `every change recorded (${rows.length})`);
  assert.equal(rows[0]?.new?.override.kind, 'variant');
  assert.ok(rows.some((r) => r.reason === 'kill switch (ccom flags off)'));
  assert.ok(rows.every((r) => r.who.length > 0));

  writeFlags(app, { 'new-checkout': { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'blue' } });
  const blocked = await runCcom(['deploy', '-C', app.dir]);
  assert.equal(blocked.code, 2, blocked.stderr);
  assert.match(blocked.stderr, /invalid flag file flags\.json: \/flags\/new-checkout\/defaultVariant: "blue" is not one of its variants \(on, off\)/);
  assert.equal(await answer(), 'on', 'nothing changed');

  assert.equal((await flags('set', 'risky-search', 'on')).code, 0);
  writeFlags(app, { 'new-checkout': { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off' } });
  const removed = await runCcom(['deploy', '-C', app.dir, '--json']);
  assert.equal(removed.code, 0, removed.stderr);
  assert.deepEqual(removed.json.deployment.flags, { added: [], removed: ['risky-search'], changed: [] }, 'the deploy document lists the flags the release changed');
  const step = removed.json.deployment.steps.find((s: { name: string }) => s.name === 'flags');
  assert.match(step?.message ?? '', /^1 flag\(s\): new-checkout; against \S+: -risky-search; ⚠ flag risky-search is gone from flags\.json but has an override \(variant on for everyone, by .+\): `ccom flags clear risky-search` forgets it$/);
  const listed = await flags();
  assert.deepEqual(listed.json.orphanedOverrides.map((o: { key: string }) => o.key), ['risky-search']);
});
