import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { instanceEnvironment, loadEnvFile } from '../src/gates/env.js';
import { protectSecrets } from '../src/gates/redact.js';
import { runCommand } from '../src/gates/run-command.js';
import { UserError } from '../src/errors.js';
import { ccomEnv, get, isGuardian, parentOf, runCcom, type CcomRun } from './helpers/ccom.js';
import { fixtureApp, type FixtureApp } from './helpers/fixture-app.js';

const BIN = new URL('../bin/ccom.js', import.meta.url).pathname;

/**
 * An app that answers `/env/NAME` with the value of its variable NAME (`<unset>` if none), so a
 * test sees exactly what an instance got. With a file `crash` in its release it prints its
 * secrets and exits on boot, like an app failing to connect to its database.
 */
const ENV_APP = `
const http = require('node:http');
if (require('node:fs').existsSync('crash')) {
  console.error('cannot connect to the database with password ' + process.env.DBPASS + ' and key ' + process.env.API_KEY);
  process.exit(1);
}
const server = http.createServer((req, res) => {
  if (req.url === '/healthz') { res.writeHead(200); return res.end('ok'); }
  if (req.url.startsWith('/env/')) { res.writeHead(200); return res.end(process.env[req.url.slice(5)] ?? '<unset>'); }
  res.writeHead(200); res.end('ok');
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => { server.close(() => process.exit(0)); server.closeIdleConnections(); });
`;

function envApp(envConfig: string): FixtureApp {
  const app = fixtureApp();
  writeFileSync(join(app.dir, 'server.js'), ENV_APP);
  app.config(envConfig);
  return app;
}

/** What the app's instances see for `name`, through the public URL. */
async function seen(url: string, name: string): Promise<string> {
  return (await get(`${url}/env/${name}`)).body;
}

function deploy(app: FixtureApp, env: NodeJS.ProcessEnv, ...args: string[]): Promise<CcomRun> {
  return runCcom(['deploy', '-C', app.dir, '--json', ...args], env);
}

/** Running, not a zombie. */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Every file where ccom keeps state or logs (but the saved environments themselves). */
function stateFilesText(app: FixtureApp): string {
  const files = ['state.db', 'state.db-wal', 'agent-state.json', join('logs', 'agent.log')].map((f) => join(app.state, f));
  return files.filter(existsSync).map((f) => readFileSync(f).toString('latin1')).join('\n');
}

test('a rotated required variable reaches the instances, survives a reboot, and a shell variable never leaks', { timeout: 180_000 }, async () => {
  const app = envApp('env:\n  required: [DBPASS]\n');
  try {
    const first = await deploy(app, { DBPASS: 'first-secret-1', LEAKY: 'only-in-the-first-shell' });
    assert.equal(first.code, 0, first.stderr);
    const url: string = first.json.deployment.url;
    assert.equal(await seen(url, 'DBPASS'), 'first-secret-1');
    assert.notEqual(await seen(url, 'PATH'), '<unset>', 'instances get the shell PATH');

    const rotated = await deploy(app, { DBPASS: 'rotated-secret-2' });
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.equal(await seen(url, 'DBPASS'), 'rotated-secret-2', 'the rotated value reached the instances');
    assert.equal(await seen(url, 'LEAKY'), '<unset>', 'a variable only the first deploy\'s shell had (neither required nor in the env file) reached instances');

    // A reboot: guardian, agent and instances all die; `ccom up` run without DBPASS brings the app back.
    const before = (await runCcom(['status', '-C', app.dir, '--json'])).json;
    const agentPid = Number(readFileSync(join(app.state, 'agent.pid'), 'utf8'));
    assert.ok(isGuardian(parentOf(agentPid)), 'the agent runs under its guardian');
    const instances: number[] = before.releases.flatMap((r: { instances: { pid: number }[] }) => r.instances.map((i) => i.pid));
    assert.ok(instances.length >= 2);
    const all = [parentOf(agentPid), agentPid, ...instances];
    for (const pid of all) process.kill(pid, 'SIGKILL');
    while (all.some(pidAlive)) await new Promise((r) => setTimeout(r, 20));
    // `ccom up` (what `ccom startup` runs at boot) brings it back; `status` only reports it.
    const status = await runCcom(['up', '-C', app.dir, '--json'], { DBPASS: '' });
    assert.equal(status.code, 0, status.stderr);
    let value: string | undefined;
    for (let i = 0; i < 200 && value !== 'rotated-secret-2'; i++) {
      value = await seen(url, 'DBPASS').catch(() => undefined);
      if (value !== 'rotated-secret-2') await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(value, 'rotated-secret-2', 'after the reboot the instances still have the variable');

    // A deploy from a shell without it is blocked, as before: nothing is taken from an earlier shell.
    const without = await deploy(app, { DBPASS: '' });
    assert.equal(without.code, 2, without.stderr);
    assert.match(without.json.deployment.reason, /DBPASS/);
    assert.equal(await seen(url, 'DBPASS'), 'rotated-secret-2');

    // The environment is kept with the release, for the user only, and nowhere else.
    const envDir = join(app.state, 'env');
    assert.equal(statSync(envDir).mode & 0o777, 0o700);
    const saved = join(envDir, `${rotated.json.deployment.release}.json`);
    assert.equal(statSync(saved).mode & 0o777, 0o600);
    assert.match(readFileSync(saved, 'utf8'), /rotated-secret-2/);
    const kept = stateFilesText(app);
    for (const secret of ['first-secret-1', 'rotated-secret-2']) {
      assert.ok(!kept.includes(secret), `${secret} is in ccom's history, state or log`);
      for (const run of [first, rotated, status]) assert.ok(!(run.stdout + run.stderr).includes(secret), `${secret} was printed`);
    }
  } finally {
    await app.cleanup();
  }
});

test('a rollback brings back the environment the release ran with; without a saved one it warns of missing required variables', { timeout: 180_000 }, async () => {
  const app = envApp('env:\n  file: .env.production\n  required: [DBPASS]\n');
  const envFile = join(app.dir, '.env.production');
  try {
    writeFileSync(envFile, 'TOKEN=token-of-release-one\n');
    const one = await deploy(app, { DBPASS: 'pass-one' });
    assert.equal(one.code, 0, one.stderr);
    const url: string = one.json.deployment.url;
    writeFileSync(envFile, 'TOKEN=token-of-release-two\n');
    const two = await deploy(app, { DBPASS: 'pass-two' });
    assert.equal(two.code, 0, two.stderr);
    assert.equal(await seen(url, 'TOKEN'), 'token-of-release-two');

    const back = await runCcom(['rollback', '-C', app.dir, '--json'], { DBPASS: '' });
    assert.equal(back.code, 0, back.stderr);
    assert.equal(await seen(url, 'TOKEN'), 'token-of-release-one', 'the rolled-back release runs with its own env file values');
    assert.equal(await seen(url, 'DBPASS'), 'pass-one', 'and with the required variable its deploy had');

    // A release an older ccom deployed has no saved environment: today's file, and a warning.
    rmSync(join(app.state, 'env', `${two.json.deployment.release}.json`));
    const legacy = await runCcom(['rollback', two.json.deployment.release, '-C', app.dir], { DBPASS: '' });
    assert.equal(legacy.code, 0, legacy.stderr);
    assert.match(legacy.stderr, /no saved environment.*required DBPASS is set in neither/);
    assert.equal(await seen(url, 'TOKEN'), 'token-of-release-two');
    assert.equal(await seen(url, 'DBPASS'), '<unset>');
  } finally {
    await app.cleanup();
  }
});

test('an env file that is a FIFO blocks the deploy at once, naming it, and leaves no lock behind', { timeout: 60_000 }, async () => {
  const app = envApp('env:\n  file: .env.production\n');
  const envFile = join(app.dir, '.env.production');
  try {
    execFileSync('mkfifo', [envFile]);
    // Run by hand: on a build that hangs, the test must end the deploy itself (by its pid).
    const child = spawn(process.execPath, [BIN, 'deploy', '-C', app.dir], { env: ccomEnv(['-C', app.dir]), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    const code = await new Promise<number | string>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve('hung');
      }, 30_000);
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve(c ?? -1);
      });
    });
    assert.equal(code, 2, `the deploy ${code === 'hung' ? 'hung on the FIFO' : `exited ${code}`}: ${stderr}`);
    assert.ok(stderr.includes(envFile), stderr);
    assert.match(stderr, /is a FIFO \(named pipe\), not a regular file/);

    rmSync(envFile);
    writeFileSync(envFile, 'A=b\n');
    const next = await runCcom(['deploy', '--dry-run', '-C', app.dir]);
    assert.equal(next.code, 0, `the lock was left held: ${next.stderr}`);
  } finally {
    await app.cleanup();
  }
});

test('an env file that is a directory or a device is refused with its path', () => {
  const app = fixtureApp();
  try {
    mkdirSync(join(app.dir, 'envdir'));
    const cases: [string, string][] = [['envdir', 'a directory'], ['/dev/null', 'a device']];
    for (const [file, kind] of cases) {
      assert.throws(
        () => loadEnvFile(app.dir, { file, required: [] }),
        (err: unknown) => err instanceof UserError && err.message.includes(`is ${kind}, not a regular file`) && err.message.includes(file),
      );
    }
  } finally {
    rmSync(app.dir, { recursive: true, force: true });
  }
});

test('an agent state file that is a FIFO is set aside at once instead of hanging the agent', () => {
  const app = fixtureApp();
  try {
    const file = join(app.dir, 'agent-state.json');
    execFileSync('mkfifo', [file]);
    const script = `import { AgentStateFile } from ${JSON.stringify(new URL('../src/agent/state-file.ts', import.meta.url).href)};
new AgentStateFile(${JSON.stringify(file)}, (m) => console.log(m));`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' });
    assert.equal(run.signal, null, 'reading the state hung');
    assert.match(run.stdout, /is a FIFO \(named pipe\), not a regular file.*kept as .*\.broken, starting empty/);
  } finally {
    rmSync(app.dir, { recursive: true, force: true });
  }
});

test('instance environment: the shell base and required names from the shell, the env file winning, nothing else', () => {
  const shell = { PATH: '/bin', HOME: '/home/x', LC_TIME: 'C', DBPASS: 'from-shell', TOKEN: 'shell-token', OTHER: 'x', EMPTY: '' };
  const { env, secretNames } = instanceEnvironment({ TOKEN: 'file-token', PATH: '/opt/bin' }, ['DBPASS', 'TOKEN', 'EMPTY'], shell);
  assert.deepEqual(env, { PATH: '/opt/bin', HOME: '/home/x', LC_TIME: 'C', DBPASS: 'from-shell', TOKEN: 'file-token' });
  assert.deepEqual(secretNames.sort(), ['DBPASS', 'EMPTY', 'PATH', 'TOKEN']);
});

test('command output never shows a known secret', async () => {
  protectSecrets(['s3cret-value-9']);
  const result = await runCommand('echo "the key is s3cret-value-9."; echo s3cr', { cwd: '/', timeoutMs: 10_000 });
  assert.equal(result.output, 'the key is [redacted].\ns3cr\n');
});

test('secrets printed by a gate or by a crashing instance are redacted on the terminal, in --json and in history', { timeout: 180_000 }, async () => {
  const [dbpass, apiKey] = ['db-pass-value-77', 'api-key-value-42'];
  const secrets = [dbpass, apiKey];
  const shell = { DBPASS: dbpass };
  const app = envApp('env:\n  file: .env.production\n  required: [DBPASS]\ngates:\n  - name: leak\n    run: echo "password=$DBPASS"; cat .env.production; exit 1\n');
  writeFileSync(join(app.dir, '.env.production'), `API_KEY=${apiKey}\n`);
  try {
    const runs: CcomRun[] = [];
    const check = (run: CcomRun, what: string): void => {
      runs.push(run);
      const text = run.stdout + run.stderr;
      for (const secret of secrets) assert.ok(!text.includes(secret), `${what} printed ${secret}: ${text}`);
      assert.match(text, /\[redacted\]/, `${what} shows where the secret was`);
    };
    const gateJson = await deploy(app, shell);
    assert.equal(gateJson.code, 2, gateJson.stderr);
    check(gateJson, 'a failed gate (--json)');
    assert.match(JSON.stringify(gateJson.json), /password=\[redacted\]/);
    const gatePlain = await runCcom(['deploy', '-C', app.dir], shell);
    assert.equal(gatePlain.code, 2, gatePlain.stderr);
    check(gatePlain, 'a failed gate');
    assert.match(gatePlain.stderr, /API_KEY=\[redacted\]/);

    app.config('env:\n  file: .env.production\n  required: [DBPASS]\n');
    writeFileSync(join(app.dir, 'crash'), '');
    const crashed = await deploy(app, shell);
    assert.notEqual(crashed.code, 0, crashed.stderr);
    check(crashed, 'a crash on boot (--json)');
    assert.match(JSON.stringify(crashed.json), /password \[redacted\] and key \[redacted\]/);

    const kept = stateFilesText(app);
    for (const secret of secrets) assert.ok(!kept.includes(secret), `${secret} is in ccom's history, state or log`);
  } finally {
    await app.cleanup();
  }
});
