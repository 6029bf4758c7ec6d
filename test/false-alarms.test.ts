import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { get } from './helpers/ccom.js';
import { realApp, type RealApp } from './helpers/real-app.js';
import { startRouteLoad } from './helpers/route-load.js';

/**
 * False alarms, measured: canaries of good releases of a generated Express app, one after
 * another in four copies of the app at once, each under 4 keep-alive clients (16 in all, as the
 * load that made the old judge cry wolf), with a CPU-bound process beside them as on a busy
 * server (this machine has 2 cores). A judge that rolls back good releases gets turned off,
 * so none of them may be rolled back, and no user request may fail.
 */
const CANARIES = 20;
/**
 * The canaries run in four copies of the app at once (5 each, 4 clients each): half the time of
 * two copies with 8 clients, at the same contention. The load runs flat out and the hog spins,
 * so this file's CPU cost is its wall time, and it was the biggest part of CI's CPU.
 */
const APPS = 4;
const CLIENTS_PER_APP = 4;
let apps: RealApp[] = [];

before(async () => {
  const first = await realApp('express');
  apps = [first];
  for (let n = 1; n < APPS; n++) apps.push(await realApp('express', { packageName: `express-${n}`, nodeModulesFrom: first.dir }));
}, { timeout: 600_000 });
after(async () => {
  for (const app of apps) {
    await app.down();
    app.remove();
  }
});

test(`${CANARIES} canaries of good releases of a real app under load, beside a CPU hog: none rolled back`, { timeout: 900_000 }, async () => {
  const hog = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  try {
    const results = await Promise.all(apps.map((app, n) => canaries(app, n, CANARIES / APPS)));
    const bad = results.flat().filter((o) => !o.endsWith(': succeeded'));
    assert.deepEqual(bad, [], `${bad.length} of ${CANARIES} good canaries were not promoted`);
  } finally {
    hog.kill('SIGKILL');
  }
});

/** `count` good canaries of one app under its own load; returns "<app> canary <i>: <outcome>" each. */
async function canaries(app: RealApp, n: number, count: number): Promise<string[]> {
  const first = await app.ccom(['deploy', '--json']);
  assert.equal(first.code, 0, first.stderr);
  const url: string = first.json.deployment.url;
  await app.configure('strategy: blue-green', 'strategy: canary\ncanary:\n  steps: [10, 50, 100]\n  interval: 2s');
  const route = readFileSync(join(app.dir, 'routes/index.js'), 'utf8');
  assert.ok(route.includes("title: 'Express'"), 'the generated index route sets its title');

  // One path: taken in turn, two paths fall into step with the proxy's 1-in-2 split at 50% and
  // each release would see only one of them (the rendered page against the one-line route).
  const load = startRouteLoad(url, ['/'], CLIENTS_PER_APP, 800_000);
  const outcomes: string[] = [];
  const judged: string[] = [];
  try {
    for (let i = 1; i <= count; i++) {
      await app.commit({ 'routes/index.js': route.replace("title: 'Express'", `title: 'Express c${i}'`) }, `good release ${i}`);
      const run = await app.ccom(['deploy', '--json']);
      const d = run.json?.deployment;
      outcomes.push(`app ${n} canary ${i}: ${d ? `${d.status}${d.reason ? `: ${d.reason}` : ''}` : `exit ${run.code}: ${run.stderr.slice(-300)}`}`);
      for (const s of d?.steps ?? []) if (/^(canary:|warm)/.test(s.name)) judged.push(`app ${n} ${i} ${s.name} ${s.message}`);
      if (d?.status === 'succeeded') assert.ok((await get(url)).body.includes(`Express c${i}`), `canary ${i} serves`);
    }
  } finally {
    const report = await load.stop();
    console.log(`app ${n} load`, JSON.stringify(report));
    console.log(judged.join('\n'));
    assert.deepEqual(report.failures, {}, 'no user request failed');
    assert.ok((report.total['/'] ?? 0) > 1000, `load ran (${JSON.stringify(report.total)})`);
  }
  return outcomes;
}
