import assert from 'node:assert/strict';
import { test } from 'node:test';
import { windowOf } from '../../src/analysis/metrics.js';
import type { AnalysisThresholds, ConnectOptions, InstanceInfo, LogLine, ReleaseSpec, Target } from '../../src/targets/types.js';
import type { AppMode } from './fixture-app.js';

/** What a target needs from the harness that runs the contract against it. */
export interface ContractSubject {
  target: Target;
  connect: ConnectOptions;
  analysis: AnalysisThresholds;
  /** A release of the fixture app (`/` answers `ok <version>`), placed where this target runs releases. */
  release(version: string, mode?: AppMode): Promise<ReleaseSpec>;
  /** After `down`: fails if anything the target ran for the app still runs, then removes what it made. */
  cleanup(): Promise<void>;
}

/**
 * The Target contract as behaviours, one suite for every target (as hono and nitro run one suite
 * against every adapter): the local agent today, SSH hosts next. Steps build on each other (one
 * app, two releases), so the whole contract runs in a few seconds per target.
 */
export function targetContract(name: string, makeSubject: () => Promise<ContractSubject>): void {
  test(`the ${name} target keeps the Target contract`, { timeout: 90_000 }, async (t) => {
    const subject = await makeSubject();
    const { target } = subject;
    let v1: InstanceInfo[] = [];
    let v2: InstanceInfo[] = [];
    const body = async (path: string) => (await target.publicRequest({ method: 'GET', path })).body;
    try {
      await t.test('connect: a public URL, nothing served yet', async () => {
        await target.connect(subject.connect);
        assert.match(target.publicUrl() ?? '', /^https?:\/\//);
        const status = await target.status();
        assert.equal(status.url, target.publicUrl());
        assert.deepEqual(status.instances, []);
      });

      await t.test('startInstances resolves with healthy instances of the release', async () => {
        const spec = await subject.release('v1');
        v1 = await target.startInstances(spec, 2);
        assert.equal(v1.length, 2);
        assert.ok(v1.every((i) => i.release === 'v1' && i.healthy), JSON.stringify(v1));
        assert.equal(new Set(v1.map((i) => i.id)).size, 2, 'instance ids are distinct');
      });

      await t.test('startInstances of a release that crashes on boot rejects and leaves nothing of it', async () => {
        const spec = await subject.release('v-crash', 'crash-on-boot');
        await assert.rejects(target.startInstances(spec, 1), /v-crash|crash|exited/i);
        const { instances } = await target.status();
        assert.deepEqual(instances.filter((i) => i.release === 'v-crash'), []);
      });

      await t.test('setWeights moves public traffic', async () => {
        await target.setWeights({ v1: 100 });
        assert.equal(await body('/'), 'ok v1');
        v2 = await target.startInstances(await subject.release('v2'), 1);
        assert.equal(await body('/'), 'ok v1', 'a release with no weight gets no traffic');
        await target.setWeights({ v1: 0, v2: 100 });
        for (let i = 0; i < 5; i++) assert.equal(await body('/'), 'ok v2');
        await target.setWeights({ v1: 100 });
        assert.equal(await body('/'), 'ok v1', 'releases not named get no traffic');
        assert.deepEqual((await target.status()).weights, { v1: 100 });
      });

      await t.test('preview reaches the named release only, users never do', async () => {
        const preview = await target.preview('v2', { method: 'GET', path: '/' });
        assert.equal(preview.status, 200);
        assert.equal(preview.body, 'ok v2');
        assert.equal(await body('/'), 'ok v1');
      });

      await t.test('metrics count public requests per release', async () => {
        const before = await target.metrics();
        for (let i = 0; i < 7; i++) await body('/');
        await target.setWeights({ v2: 100 });
        for (let i = 0; i < 3; i++) await body('/');
        const after = await target.metrics();
        assert.ok(after.boundsMs.length > 0);
        assert.equal(windowOf(after, before, 'v1').requests, 7);
        assert.equal(windowOf(after, before, 'v2').requests, 3);
        assert.equal(windowOf(after, before, 'v2').status5xx, 0);
      });

      await t.test('watch runs until ended, and endWatch ends it without moving traffic', async () => {
        const handoff = { deploymentId: 'd-contract', release: 'v2', previous: 'v1', releaseIds: v2.map((i) => i.id), previousIds: v1.map((i) => i.id), analysis: subject.analysis, durationMs: 60_000, drainTimeoutMs: 1000 };
        const report = await target.watch(handoff);
        assert.equal(report.status, 'running');
        assert.ok(Date.parse(report.until) > Date.now());
        assert.equal((await target.watchStatus())?.deploymentId, 'd-contract');
        await target.endWatch();
        const ended = await target.watchStatus();
        assert.equal(ended?.status, 'ended');
        assert.deepEqual((await target.status()).weights, { v2: 100 });
      });

      await t.test('stopInstances lets in-flight requests finish, then stops them', async () => {
        await target.setWeights({ v1: 100 });
        const slow = target.publicRequest({ method: 'GET', path: '/slow?ms=1000&note=slow-request-arrived' });
        await untilLogged(target, 'v1', 'slow-request-arrived');
        await target.setWeights({ v2: 100 });
        await target.stopInstances(v1.map((i) => i.id), 10_000);
        assert.deepEqual(await slow.then((r) => [r.status, r.body]), [200, 'slow v1']);
        assert.deepEqual((await target.status()).instances.map((i) => i.release), ['v2']);
        assert.equal(await body('/'), 'ok v2');
      });

      await t.test('status: weights, instances with their health, what supervises them', async () => {
        const status = await target.status();
        assert.deepEqual(status.weights, { v2: 100 });
        assert.deepEqual(status.instances.map((i) => [i.id, i.release, i.healthy]), v2.map((i) => [i.id, 'v2', true]));
        assert.ok(status.supervisor && status.supervisor.id !== '' && Number.isInteger(status.supervisor.restarts), JSON.stringify(status.supervisor));
      });

      await t.test('logs: the last lines of each instance, then what it writes next', async () => {
        const [instance] = v2.map((i) => i.id);
        const tail = await collect(target.logs({ release: 'v2', lines: 5, follow: false }), () => false);
        assert.ok(tail.some((l) => l.instance === instance && /listening \d+ v2/.test(l.line)), JSON.stringify(tail));
        await assert.rejects(collect(target.logs({ release: 'v-none', lines: 5, follow: false }), () => false), /no logs for release v-none/);
        // Lines written after following began: written until one arrives (a follower may take a while to start).
        let writing = true;
        const following = collect(target.logs({ release: 'v2', lines: 1, follow: true }), (got) => got.some((l) => l.line.startsWith('followed-')));
        const writer = (async () => {
          for (let n = 0; writing; n++) {
            assert.equal(await body(`/log?line=followed-${n}`), 'logged v2');
            await new Promise((r) => setTimeout(r, 100));
          }
        })();
        const lines = await following.finally(() => (writing = false));
        await writer;
        assert.equal(lines.length >= 2, true, 'the tail line, then followed lines');
        assert.equal(lines.at(-1)?.instance, instance);
        assert.match(lines.at(-1)?.line ?? '', /^followed-\d+$/);
      });

      await t.test('down stops everything: the public URL no longer answers', async () => {
        await target.down();
        await assert.rejects(body('/'));
      });
    } finally {
      await subject.cleanup();
    }
  });
}

/** Output of a release until a line says `note` (within collect's 10 s). */
async function untilLogged(target: Target, release: string, note: string): Promise<void> {
  await collect(target.logs({ release, lines: 50, follow: true }), (got) => got.some((l) => l.line === note));
}

/** Lines until `done` says so (all, when the iterable ends first), within 10 s. */
async function collect(lines: AsyncIterable<LogLine>, done: (got: LogLine[]) => boolean): Promise<LogLine[]> {
  const got: LogLine[] = [];
  const read = (async () => {
    for await (const line of lines) {
      got.push(line);
      if (done(got)) break;
    }
    return got;
  })();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`only ${got.length} log line(s) within 10 s: ${JSON.stringify(got)}`)), 10_000)));
  try {
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
