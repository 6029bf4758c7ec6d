import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { fixtureApp, type AppMode } from './helpers/fixture-app.js';
import { runCcom } from './helpers/ccom.js';
import { writeConfig } from './helpers/failure-tools.js';
import { startLoad } from './helpers/load.js';
import { sample } from './helpers/progressive.js';

const app = fixtureApp('v1');
after(() => app.cleanup());

type Strategy = 'blue-green' | 'canary' | 'rolling';
/** One operation: deploy `version` in `mode` with a strategy, or `ccom rollback`; then the expected exit code. */
type Op = [Strategy, string, AppMode, number] | ['rollback', number];

/**
 * Recreate is left out: it stops the old release before the new one serves, so it has
 * downtime by design. Bad releases are the kinds no user may see fail: they die before traffic,
 * fail the preview, or are caught by the judge while serving only slow-but-correct answers.
 */
const OPS: Op[] = [
  ['blue-green', 'v2', 'ok', 0],
  ['canary', 'v3', 'ok', 0],
  ['rolling', 'v4', 'ok', 0],
  ['canary', 'bad-slow', 'slow-300', 1],
  ['blue-green', 'bad-boot', 'crash-on-boot', 1],
  ['rolling', 'v5', 'ok', 0],
  ['rollback', 0], // back to v4
  ['canary', 'bad-page', 'broken-page', 1],
  ['rolling', 'bad-crash', 'crash-after-boot', 1],
  ['blue-green', 'v6', 'ok', 0],
  ['canary', 'bad-unhealthy', 'never-healthy', 1],
  ['rolling', 'bad-boot2', 'crash-on-boot', 1],
  ['canary', 'v7', 'ok', 0],
  ['rollback', 0], // back to v6
  ['blue-green', 'bad-page2', 'broken-page', 1],
  ['rolling', 'v8', 'ok', 0],
  ['canary', 'bad-slow2', 'slow-300', 1],
  ['blue-green', 'v9', 'ok', 0],
  ['rollback', 0], // back to v8
  ['canary', 'v10', 'ok', 0],
];

test('twenty deploys and rollbacks with mixed strategies under load lose no request', async () => {
  // A 300 ms slower canary answers few requests: its steps last 1 s and 10 requests are enough to
  // judge, or a busy CI machine left a step with 8 live ones, and it was judged on ccom's probes alone.
  writeConfig(app, [['timeout: 5s', 'timeout: 3s'], ['analysis:\n  watch: 0\n', 'analysis:\n  watch: 0\n  minRequests: 10\n']], 'canary:\n  steps: [50, 100]\n  interval: 1s\nrolling:\n  batch: 1\n  interval: 1s\n');
  const first = await runCcom(['deploy', '-C', app.dir, '--json']);
  assert.equal(first.code, 0, first.stderr);
  const url: string = first.json.deployment.url;
  // Twenty operations take minutes on a busy machine: the load must outlast them all.
  const load = startLoad(url, 8, 900_000);
  /** Versions that were live, oldest first: a rollback goes back to the one before the last. */
  const history = ['v1'];
  const outcomes: string[] = [];
  try {
    for (const op of OPS) {
      const failedBefore = load.failedSoFar();
      let run;
      if (op[0] === 'rollback') {
        run = await runCcom(['rollback', '-C', app.dir, '--json']);
        assert.equal(run.code, op[1], `rollback: ${run.stderr}`);
        history.pop();
        outcomes.push(`rollback:${run.json.deployment.status}`);
      } else {
        const [strategy, version, mode, code] = op;
        app.write(version, mode);
        run = await runCcom(['deploy', '-C', app.dir, '--strategy', strategy, '--json']);
        assert.equal(run.code, code, `${strategy} ${version} (${mode}): ${run.stderr}`);
        assert.equal(run.json.deployment.strategy, strategy);
        if (code === 0) history.push(version);
        outcomes.push(`${strategy}:${version}:${run.json.deployment.status}`);
      }
      const failedNow = Object.entries(load.failedSoFar()).filter(([k, n]) => n !== (failedBefore[k] ?? 0));
      if (failedNow.length) outcomes[outcomes.length - 1] += ` (failed during it: ${failedNow.map(([k, n]) => `${n - (failedBefore[k] ?? 0)} × ${k.trim()}`).join(', ')})`;
      const live = history.at(-1)!;
      assert.deepEqual((await sample(url, 10, 2)).bodies, { [`ok ${live}`]: 10 }, `after ${op.join(' ')}, ${live} serves everything`);
    }
  } finally {
    const report = await load.stop();
    console.log(JSON.stringify({ outcomes, ...report }));
    assert.equal(report.failed, 0, `failed requests: ${JSON.stringify(report.failures)}`);
    assert.ok(report.total > 2000, `enough load to mean something (${report.total} requests)`);
    for (const body of Object.keys(report.bodies)) assert.doesNotMatch(body, /bad-(page|boot|unhealthy)|internal error/, 'no user reached a release that failed before traffic');
  }
  assert.deepEqual(history, ['v1', 'v2', 'v3', 'v4', 'v6', 'v8', 'v10']);
  assert.equal(outcomes.length, 20);
});
