import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isUserError } from '../src/errors.js';
import { callAgent } from '../src/targets/local/agent-client.js';
import { fixtureApp, type FixtureApp } from './helpers/fixture-app.js';
import { get, parentOf, runCcom } from './helpers/ccom.js';

let app: FixtureApp;
let url: string;
before(async () => {
  app = fixtureApp('v1');
  // A secret in the deploying shell's environment, as a CI job or an exported session would have.
  const deployed = await runCcom(['deploy', '-C', app.dir, '--json'], { DEPLOY_SECRET_TOKEN: 'hunter2-secret' });
  assert.equal(deployed.code, 0, deployed.stderr);
  url = deployed.json.deployment.url;
});
after(async () => {
  await app.cleanup();
});

function environOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
}

test("the deploying shell's secrets are not in the agent's or its guardian's environment", () => {
  const agent = Number(readFileSync(join(app.state, 'agent.pid'), 'utf8'));
  for (const pid of [agent, parentOf(agent)]) {
    const environ = environOf(pid);
    assert.ok(!environ.some((e) => e.includes('hunter2-secret') || e.startsWith('DEPLOY_SECRET_TOKEN=')), `pid ${pid} carries the secret`);
    assert.ok(environ.some((e) => e.startsWith('PATH=')), `pid ${pid} keeps PATH`);
  }
});

test("an agent-side UserError reaches the CLI as a UserError with the agent's message and fix", async () => {
  // A port another program holds: the agent refuses to serve there and says how to fix it.
  const holder: Server = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const taken = (holder.address() as { port: number }).port;
  try {
    const options = { app: 'fixture', proxy: { host: '127.0.0.1', port: taken }, monitoring: { port: 0, business: [] } };
    const err = await callAgent(join(app.state, 'agent.sock'), 'POST', '/v1/configure', options).then(
      () => assert.fail('the agent served on a taken port'),
      (e: unknown) => e,
    );
    assert.ok(isUserError(err), 'a UserError, not "a bug in ccom"');
    assert.match(err.message, new RegExp(`port ${taken} on 127.0.0.1 is already in use`));
    assert.match(err.fix ?? '', /set proxy\.port in ccom\.yaml to a free port/);
  } finally {
    holder.close();
  }
  assert.equal((await get(url)).body, 'ok v1', 'the app still serves on its own port');
});

test('a deleted control socket is recreated by the agent: ccom manages the app again, same agent', async () => {
  const agent = Number(readFileSync(join(app.state, 'agent.pid'), 'utf8'));
  unlinkSync(join(app.state, 'agent.sock'));
  const status = await runCcom(['status', '-C', app.dir, '--json']);
  assert.equal(status.code, 0, status.stderr);
  assert.equal(Number(readFileSync(join(app.state, 'agent.pid'), 'utf8')), agent, 'the same agent answers');
  assert.equal(statSync(join(app.state, 'agent.sock')).mode & 0o777, 0o600, 'the recreated socket is private');
  assert.equal((await get(url)).body, 'ok v1');
});

test('an instance a killed agent started but never recorded is stopped by the agent that follows; other processes in the release are left alone', async () => {
  const [release] = readdirSync(join(app.state, 'releases'));
  const cwd = join(app.state, 'releases', release as string);
  const keepAlive = ['-e', 'setInterval(() => {}, 1000)'];
  // As the agent spawns one (own group, CCOM_INSTANCE in its environment), but absent from its state.
  const orphan = spawn(process.execPath, keepAlive, { cwd, env: { CCOM_INSTANCE: 'i-orphan', CCOM_RELEASE: release }, detached: true, stdio: 'ignore' });
  // A user's own process in the release directory: not an instance, never ccom's to stop.
  const bystander = spawn(process.execPath, keepAlive, { cwd, detached: true, stdio: 'ignore' });
  try {
    const agent = Number(readFileSync(join(app.state, 'agent.pid'), 'utf8'));
    process.kill(agent, 'SIGKILL');
    const status = await runCcom(['status', '-C', app.dir, '--json']);
    assert.equal(status.code, 0, status.stderr);
    assert.notEqual(Number(readFileSync(join(app.state, 'agent.pid'), 'utf8')), agent, 'a new agent answers');
    assert.equal(await exitOf(orphan, 5_000), 'SIGTERM', 'the unrecorded instance was stopped');
    assert.equal(bystander.exitCode, null, 'the other process still runs');
    assert.equal(bystander.signalCode, null, 'the other process still runs');
    assert.match(readFileSync(join(app.state, 'logs', 'agent.log'), 'utf8'), /stopping 1 instance\(s\) a previous agent started but never recorded: i-orphan/);
    assert.equal((await get(url)).body, 'ok v1', 'the recorded instances were adopted and serve');
  } finally {
    orphan.kill('SIGKILL');
    bystander.kill('SIGKILL');
  }
});

function exitOf(child: ChildProcess, timeoutMs: number): Promise<string> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(String(child.signalCode ?? child.exitCode));
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('still running'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(String(signal ?? code));
    });
  });
}
