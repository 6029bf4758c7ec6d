import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { runCcom } from './helpers/ccom.js';
import { startCcom, writeConfig } from './helpers/failure-tools.js';
import { fixtureApp, processesUnder } from './helpers/fixture-app.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function serves(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Runs a ccom command and notes when it ended, to know which of two serialised commands ran last. */
async function timed(args: string[]) {
  const run = await startCcom(args).done;
  return { ...run, endedAt: process.hrtime.bigint() };
}

test('down and rollback at once: one waits its turn or is refused naming the holder; the app ends as the last one left it', async () => {
  const app = fixtureApp('v1');
  try {
    // A fixed public port, so "serving" means the same URL before and after an agent restart.
    const port = await freePort();
    writeConfig(app, [['proxy:\n  port: 0', `proxy:\n  port: ${port}`]]);
    const url = `http://127.0.0.1:${port}/`;
    const v1 = await runCcom(['deploy', '-C', app.dir, '--json']);
    assert.equal(v1.code, 0);
    app.write('v2');
    const v2 = await runCcom(['deploy', '-C', app.dir, '--json']);
    assert.equal(v2.code, 0);
    // Rollbacks name their release: a plain `ccom rollback` walks back through history, and two
    // releases would run out of steps to walk back after the first trials.
    const ids = [v1.json.deployment.release as string, v2.json.deployment.release as string];
    const other = async () => {
      const live = (await runCcom(['status', '-C', app.dir, '--json'])).json?.live as string | null;
      return live === ids[0] ? ids[1]! : ids[0]!;
    };
    let refused = 0;
    for (let trial = 0; trial < 10; trial++) {
      if (!(await serves(url))) {
        const up = await runCcom(['rollback', await other(), '-C', app.dir]);
        assert.equal(up.code, 0, `trial ${trial}: bringing the app back up failed\n${up.stderr}`);
      }
      // Down starts at a different moment of the rollback in each trial (0 to 540 ms in), so the
      // trials cover its whole critical section: verify, agent, start, switch.
      const rollbackRun = timed(['rollback', await other(), '-C', app.dir]);
      await new Promise((r) => setTimeout(r, trial * 60));
      const [down, rollback] = await Promise.all([timed(['down', '-C', app.dir]), rollbackRun]);
      const what = `trial ${trial}: down exited ${down.code}, rollback ${rollback.code}\n${down.stderr}\n---\n${rollback.stderr}`;
      assert.ok([0, 2].includes(down.code) && [0, 2].includes(rollback.code), what);
      assert.ok(down.code === 0 || rollback.code === 0, what);
      for (const loser of [down, rollback].filter((r) => r.code === 2)) {
        refused++;
        assert.match(loser.stderr, /another command is changing what serves: `ccom (down|rollback)` by .+ \(pid \d+ on .+\) since \S+/, what);
        assert.match(loser.stderr, /fix: wait for it to finish/, what);
      }
      const rollbackLast = rollback.code === 0 && (down.code === 2 || rollback.endedAt > down.endedAt);
      // Checked twice: a second later nothing must have come back up (or gone down) on its own.
      for (const when of ['at once', 'a second later']) {
        if (when !== 'at once') await new Promise((r) => setTimeout(r, 1000));
        if (rollbackLast) assert.ok(await serves(url), `${what}\nthe rollback ran last but the app does not serve (${when})`);
        else assert.deepEqual(await processesUnder(app.dir, 0), [], `${what}\n\`down\` ran last but processes run (${when})`);
      }
    }
    // Both outcomes of the race are fine; the count only documents what the trials saw.
    console.log(`${refused} of 10 trials refused one command with exit 2; the others serialised`);
  } finally {
    await app.cleanup();
  }
});
