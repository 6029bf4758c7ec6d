import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ccomEnv, get, runCcom } from './helpers/ccom.js';
import { fixtureApp, type FixtureApp } from './helpers/fixture-app.js';
import { startLoad } from './helpers/load.js';

const BIN = new URL('../bin/ccom.js', import.meta.url).pathname;
let app: FixtureApp;
after(async () => {
  await app?.cleanup();
});

async function deploy(version: string): Promise<{ url: string; release: string }> {
  app.write(version);
  const run = await runCcom(['deploy', '-C', app.dir, '--json']);
  assert.equal(run.code, 0, run.stderr);
  return { url: run.json.deployment.url, release: run.json.deployment.release };
}

/** `ccom logs -f --json` as a child process; its lines as objects. Stopped by pid in `stop`. */
function follow() {
  const args = ['logs', '-f', '--json', '-C', app.dir];
  const child = spawn(process.execPath, [BIN, ...args], { env: ccomEnv(args), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c));
  const lines = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { at: string | null; release: string; instance: string; line: string });
  return {
    lines,
    async waitFor(pred: (l: ReturnType<typeof lines>[number]) => boolean) {
      for (let i = 0; i < 100; i++) {
        if (lines().some(pred)) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.fail(`logs -f never showed the line; it showed: ${out.slice(-2000)}`);
    },
    stop: () => new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

function logBytes(release: string, instances: string[]): { files: number; bytes: number } {
  const dir = join(app.state, 'logs', release);
  const files = readdirSync(dir).filter((f) => instances.some((id) => new RegExp(`^${id}\\.log(\\.\\d)?$`).test(f)));
  return { files: files.length, bytes: files.reduce((sum, f) => sum + statSync(join(dir, f)).size, 0) };
}

test('logs: times and release on each line, -f across a redeploy and a restart, rotation under load, pruned with releases', { timeout: 120_000 }, async (t) => {
  app = fixtureApp();
  app.config('logs:\n  maxSize: 64KB\nreleases:\n  keep: 1\n');
  const v1 = await deploy('v1');
  await get(`${v1.url}/log?line=${encodeURIComponent('\x1b[31mred v1\x1b[0m')}`);
  const following = follow();
  let v2 = v1;
  let fresh: string[] = [];
  try {
    await following.waitFor((l) => l.line === 'red v1');
    const first = following.lines().find((l) => l.line === 'red v1');
    assert.equal(first?.release, v1.release);
    assert.match(first?.at ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'each line has its time');
    assert.ok(!following.lines().some((l) => l.line.includes('\x1b')), 'colour codes are stripped off a terminal');

    // A redeploy: the follower shows the new release's instances without being restarted.
    v2 = await deploy('v2');
    await get(`${v2.url}/log?line=after-redeploy`);
    await following.waitFor((l) => l.line === 'after-redeploy' && l.release === v2.release);
    // A restart: new instances of the same release, followed too.
    const restart = await runCcom(['restart', '-C', app.dir, '--json']);
    assert.equal(restart.code, 0, restart.stderr);
    fresh = restart.json.replaced.map((r: { new: string }) => r.new);
    await get(`${v2.url}/log?line=after-restart`);
    await following.waitFor((l) => l.line === 'after-restart' && fresh.includes(l.instance));
  } finally {
    await following.stop();
  }

  // Default: the running instances only; --all includes the stopped ones; --grep, --since.
  const live = await runCcom(['logs', '-C', app.dir, '--json']);
  const liveLines = live.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(liveLines.every((l: { release: string }) => l.release !== v1.release), 'a stopped release is not shown by default');
  const all = await runCcom(['logs', '-C', app.dir, '--all', '--grep', '^red', '--since', '10m']);
  assert.match(all.stdout, new RegExp(`^\\[${v1.release} i-[0-9a-f]+\\] red v1$`, 'm'));
  assert.equal((await runCcom(['logs', '-C', app.dir, '--all', '--grep', '^red', '--since', '2026-01-01T00:00:00Z'])).stdout, all.stdout);

  // 300-byte lines under load until every instance's log was rotated so often that its oldest
  // file was dropped (its .log.3 replaced): the size stays within 4 × 64 KB per instance.
  const padding = 'x'.repeat(280);
  const load = startLoad(`${v2.url}/log?line=${padding}`, 8);
  const third = (id: string) => join(app.state, 'logs', v2.release, `${id}.log.3`);
  const inode = (file: string) => (existsSync(file) ? statSync(file).ino : undefined);
  const firstThirds = new Map<string, number>();
  for (let i = 0; i < 300 && !fresh.every((id) => firstThirds.has(id) && inode(third(id)) !== firstThirds.get(id)); i++) {
    for (const id of fresh) if (!firstThirds.has(id) && inode(third(id)) !== undefined) firstThirds.set(id, inode(third(id)) as number);
    await new Promise((r) => setTimeout(r, 100));
  }
  const report = await load.stop();
  assert.equal(report.failed, 0);
  const { files, bytes } = logBytes(v2.release, fresh);
  assert.equal(files, 2 * 4, 'each instance has its live log and three rotated ones');
  assert.ok(fresh.every((id) => inode(third(id)) !== firstThirds.get(id)), 'the oldest rotated file of each instance was replaced');
  assert.ok(bytes <= files * (64e3 + 1024), `${bytes} bytes in ${files} files for 2 instances (${report.total} lines written)`);
  t.diagnostic(`rotation: ${report.total} lines of ~300 bytes written, ${bytes} bytes kept in ${files} files (2 instances, maxSize 64KB)`);

  // A third deploy with releases.keep 1 prunes v1, and its logs with it.
  await deploy('v3');
  assert.equal(existsSync(join(app.state, 'logs', v1.release)), false, 'the pruned release\'s logs are gone');
  assert.equal(existsSync(join(app.state, 'logs', v2.release)), true, 'the previous release\'s logs are kept');
});
