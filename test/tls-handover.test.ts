import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ccomEnv, runCcom } from './helpers/ccom.js';
import { fixtureApp } from './helpers/fixture-app.js';
import { freePort, startPebble } from './helpers/pebble.js';
import { curl, tlsGet, writeProtoApp, writeTlsConfig } from './helpers/tls-site.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** This build with another build stamp (as in agent-upgrade.test.ts): its agent hands over to ours. */
function otherStamp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ccom-old-build-'));
  cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  for (const file of readdirSync(join(dir, 'dist')).filter((f) => f.endsWith('.js'))) {
    const path = join(dir, 'dist', file);
    writeFileSync(path, readFileSync(path, 'utf8').replace(/"(\d+\.\d+\.\d+)\+[0-9a-f]{12}"/g, '"$1+0ld0ld0ld0ld"'));
  }
  return dir;
}

function runWith(binDir: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(binDir, 'bin', 'ccom.js'), ...args], { env: ccomEnv(args), stdio: 'ignore' });
    child.on('close', (code) => resolve(code ?? -1));
  });
}

test('an agent upgrade hands the HTTPS port over under TLS load: 0 failed requests, same certificate, plain HTTP back', { timeout: 150_000 }, async (t) => {
  const [port, httpPort] = await Promise.all([freePort(), freePort()]);
  const pebble = await startPebble({ httpPort });
  const app = fixtureApp();
  const old = otherStamp();
  t.after(async () => {
    if (process.env.KEEP_LOG) console.log(readFileSync(join(app.state, 'logs', 'agent.log'), 'utf8'));
    await app.cleanup();
    await pebble.stop();
    rmSync(old, { recursive: true, force: true });
  });
  writeProtoApp(app, 'v1');
  writeTlsConfig(app, { port, httpPort, directory: pebble.directory, caFile: pebble.caFile });
  assert.equal(await runWith(old, ['deploy', '-C', app.dir]), 0, 'the other build deploys');
  const oldAgent = Number(readFileSync(join(app.state, 'agent.pid'), 'utf8'));
  const ca = readFileSync(pebble.rootFile);
  const serial = (await tlsGet(port, ca, false)).serial;

  const keepAlive = new Agent({ keepAlive: true, maxSockets: 4 });
  t.after(() => keepAlive.destroy());
  const failures: string[] = [];
  let ok = 0;
  let running = true;
  const worker = async (agent: Agent | false) => {
    while (running) {
      try {
        const answer = await tlsGet(port, ca, agent);
        if (answer.body === 'ok v1 proto=https' && answer.serial === serial) ok++;
        else failures.push(`${answer.status} ${answer.body}`);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  };
  const workers = [worker(keepAlive), worker(keepAlive), worker(false)];
  await new Promise((r) => setTimeout(r, 500));
  const status = await runCcom(['status', '-C', app.dir, '--json']);
  assert.equal(status.code, 0, status.stderr);
  assert.equal(status.json.url, `https://shop.test:${port}`);
  await new Promise((r) => setTimeout(r, 2_500));
  running = false;
  await Promise.all(workers);
  assert.notEqual(Number(readFileSync(join(app.state, 'agent.pid'), 'utf8')), oldAgent, 'the agent was replaced');
  assert.deepEqual(failures, []);
  assert.ok(ok > 20, `only ${ok} requests answered`);
  assert.equal(curl('shop.test', port, '/', pebble.rootFile).out, 'ok v1 proto=https');

  // The plain-HTTP port follows once the old agent let it go.
  let redirect = '';
  for (let i = 0; i < 60 && !redirect.startsWith('308'); i++) {
    redirect = curlHttp(httpPort);
    if (!redirect.startsWith('308')) await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal(redirect, `308 https://shop.test:${port}/x`);
});

function curlHttp(port: number): string {
  try {
    return execFileSync('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', '-H', 'Host: shop.test', `http://127.0.0.1:${port}/x`], { encoding: 'utf8' });
  } catch {
    return ''; // not listening yet
  }
}
