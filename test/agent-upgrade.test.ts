import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { ccomEnv, isGuardian, parentOf, runCcom } from './helpers/ccom.js';
import { fixtureApp } from './helpers/fixture-app.js';
import { startLoad } from './helpers/load.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A copy of the built CLI whose build stamp differs: what an older installed ccom looks like. */
function olderBuild(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ccom-old-build-'));
  cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  let stamped = 0;
  for (const file of readdirSync(join(dir, 'dist')).filter((f) => f.endsWith('.js'))) {
    const path = join(dir, 'dist', file);
    const text = readFileSync(path, 'utf8');
    const changed = text.replace(/"(\d+\.\d+\.\d+)\+[0-9a-f]{12}"/g, '"$1+0ld0ld0ld0ld"');
    if (changed !== text) stamped++;
    writeFileSync(path, changed);
  }
  assert.ok(stamped > 0, 'the build stamp was found in dist/');
  return dir;
}

function runWith(binDir: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(binDir, 'bin', 'ccom.js'), ...args], { env: ccomEnv(args), stdio: 'ignore' });
    child.on('close', (code) => resolve(code ?? -1));
  });
}

test('an agent left by an older build hands over to the new one under load: no request lost', async () => {
  const app = fixtureApp('v1');
  const old = olderBuild();
  try {
    assert.equal(await runWith(old, ['deploy', '-C', app.dir]), 0, 'the older build deploys');
    const oldAgent = Number(readFileSync(join(app.state, 'agent.pid'), 'utf8'));
    const url = (await runCcom(['status', '-C', app.dir, '--json'])).json?.url ?? '';
    // That status call came from the new build: it already replaced the agent. Check, then do
    // it once more under load with a fresh older agent.
    const afterFirst = Number(readFileSync(join(app.state, 'agent.pid'), 'utf8'));
    assert.notEqual(afterFirst, oldAgent, 'the new build replaced the older agent');
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);

    await runWith(old, ['status', '-C', app.dir]); // the older build takes the agent back
    const olderAgain = Number(readFileSync(join(app.state, 'agent.pid'), 'utf8'));
    const load = startLoad(url, 8);
    await new Promise((r) => setTimeout(r, 500));
    const status = await runCcom(['status', '-C', app.dir, '--json']);
    assert.equal(status.code, 0, status.stderr);
    await new Promise((r) => setTimeout(r, 2500));
    const report = await load.stop();
    const newAgent = Number(readFileSync(join(app.state, 'agent.pid'), 'utf8'));
    assert.notEqual(newAgent, olderAgain, 'the agent was replaced while the load ran');
    assert.ok(isGuardian(parentOf(newAgent)), 'the new agent runs under a guardian of its own');
    assert.equal(report.failed, 0, `failed requests: ${JSON.stringify(report.failures)}`);
    assert.ok(report.total > 200, `load ran (${report.total} requests)`);
    assert.deepEqual(status.json.releases.map((r: { instances: unknown[] }) => r.instances.length), [2], 'instances adopted, not restarted');
  } finally {
    await app.cleanup();
    rmSync(old, { recursive: true, force: true });
  }
});
