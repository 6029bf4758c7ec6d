import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { get, type CcomRun } from './ccom.js';
import { realApp, type RealApp } from './real-app.js';
import { startRouteLoad, type RouteLoadReport } from './route-load.js';
import { sleep } from './progressive.js';

/** The steps every real app goes through, in order; each can be marked todo until fixed. */
export type Step = 'deploy' | 'redeploy' | 'canary' | 'rollback' | 'down' | 'git-clean';

export interface RealAppSpec {
  name: 'next' | 'express' | 'fastify';
  /** A `start:` written by hand over the one `ccom init` chose. */
  start?: string;
  /** What the first release serves (checked after the first deploy). */
  served(url: string): Promise<void>;
  /** A good change, and what proves it is live after the redeploy. */
  v2: { files: (app: RealApp) => Record<string, string>; served(url: string): Promise<void> };
  /** What proves the first release serves again after `ccom rollback` (from the second). */
  rolledBack(url: string): Promise<void>;
  /** A release failing one request in four of `path` (answering `marker`), everything else fine. */
  bad: { files: (app: RealApp) => Record<string, string>; path: string; marker: string };
  /** More checks of the first release while it is live; `todo` names the issue-9 point that fixes one failing today. */
  live?: Array<{ name: string; todo?: string; run(app: RealApp, url: string): Promise<void> }>;
  /** Steps that fail on today's build, with the issue-9 point that fixes them. */
  todo?: Partial<Record<Step, string>>;
}

export async function expectBody(url: string, status: number, contains: string): Promise<void> {
  const res = await get(url);
  assert.equal(res.status, status, `GET ${url}: ${res.body.slice(0, 300)}`);
  assert.ok(res.body.includes(contains), `GET ${url} should contain "${contains}": ${res.body.slice(0, 300)}`);
}

const show = (r: CcomRun) => `exit ${r.code}\n${r.stderr}`;

/**
 * One generated app, deployed as a user would: first deploy, a redeploy, a bad canary under load
 * (rolled back to the redeploy), a rollback by hand to the first release, down; the app's git
 * repository must stay clean through all of it.
 */
export function realAppSuite(spec: RealAppSpec): void {
  let app: RealApp;
  let url = '';
  let downed = false;
  const gitAfter: Record<string, string> = {};
  const todo = (step: Step) => ({ todo: spec.todo?.[step] ?? false, timeout: 600_000 });
  const deploy = async (step: string, args: string[] = []) => {
    const run = await app.ccom(['deploy', '--json', ...args]);
    gitAfter[step] = await app.gitStatus();
    return run;
  };

  before(async () => {
    app = await realApp(spec.name, { start: spec.start });
  }, { timeout: 600_000 });
  after(async () => {
    if (!app) return;
    if (!downed) await app.down();
    app.remove();
  });

  test(`${spec.name}: ccom init + deploy puts the generated app live`, todo('deploy'), async () => {
    const run = await deploy('deploy');
    assert.equal(run.code, 0, show(run));
    url = run.json.deployment.url;
    await spec.served(url);
  });

  for (const check of spec.live ?? []) {
    test(`${spec.name}: ${check.name}`, { todo: check.todo ?? false, timeout: 120_000 }, () => check.run(app, url));
  }

  test(`${spec.name}: a redeploy of a changed app goes live`, todo('redeploy'), async () => {
    await app.commit(spec.v2.files(app), 'v2');
    const run = await deploy('redeploy');
    assert.equal(run.code, 0, show(run));
    await spec.v2.served(url);
  });

  test(`${spec.name}: a canary failing 25% of ${spec.bad.path} under load is rolled back`, todo('canary'), async (t) => {
    await app.configure('strategy: blue-green', 'strategy: canary\ncanary:\n  steps: [10, 50, 100]\n  interval: 5s');
    await app.commit(spec.bad.files(app), 'a bad release');
    // Steady, not flat out: the deploy builds the app first, and a build starved of CPU by
    // the load made this step take minutes (Next.js). About 100 requests a second still give
    // the 10% step its evidence in a few seconds.
    const load = startRouteLoad(url, ['/', spec.bad.path], 6, 600_000, 50);
    let run: CcomRun | undefined;
    let report: RouteLoadReport | undefined;
    try {
      await sleep(1000);
      run = await deploy('canary');
      await sleep(1000);
    } finally {
      report = await load.stop();
    }
    console.log(spec.name, 'canary load', JSON.stringify(report));
    assert.equal(run.code, 1, show(run));
    assert.equal(run.json.deployment.status, 'rolled_back');
    // The release is no slower, only a new process: on a busy machine today's judge can roll it
    // back on latency before it sees the errors (a false alarm that point 9 removes).
    if (/p99 latency/.test(run.json.deployment.reason)) t.todo('issue 9 point 9 (no false alarms): judged on cold-process latency');
    assert.match(run.json.deployment.reason, /error rate [\d.]+% \(\d+ of \d+ requests failed\)/);
    for (const failure of Object.keys(report.failures)) {
      assert.ok(failure.startsWith(`${spec.bad.path} HTTP 500`) && failure.includes(spec.bad.marker), `only the canary's bad route failed: ${failure}`);
    }
    for (let i = 0; i < 20; i++) assert.equal((await get(url + spec.bad.path)).status, 200, 'the stable release serves the route again');
  });

  test(`${spec.name}: ccom rollback by hand brings the first release back`, todo('rollback'), async () => {
    const run = await app.ccom(['rollback', '--json']);
    gitAfter.rollback = await app.gitStatus();
    assert.equal(run.code, 0, show(run));
    await spec.rolledBack(url);
  });

  test(`${spec.name}: ccom down stops the app and every process it started`, todo('down'), async () => {
    downed = true;
    const { run, leaked } = await app.down();
    gitAfter.down = await app.gitStatus();
    assert.equal(run.code, 0, show(run));
    assert.deepEqual(leaked, [], 'no process left running in the app or its state');
    await assert.rejects(get(url), 'nothing answers on the public URL');
  });

  test(`${spec.name}: git status of the app is clean after deploy, canary, rollback and down`, todo('git-clean'), () => {
    assert.ok(Object.keys(gitAfter).length >= 5, `every step ran: ${Object.keys(gitAfter).join(', ')}`);
    for (const [step, status] of Object.entries(gitAfter)) assert.equal(status, '', `git status --porcelain after ${step}`);
  });
}

/** The app's `file` with `from` replaced by `to`; throws when `from` is absent (a test must not void itself). */
export function patched(app: RealApp, file: string, from: string, to: string): Record<string, string> {
  const text = readFileSync(join(app.dir, file), 'utf8');
  if (!text.includes(from)) throw new Error(`${file} has no "${from}"`);
  return { [file]: text.replace(from, to) };
}
