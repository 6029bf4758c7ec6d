import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, test } from 'node:test';
import { ccomEnv, get, parentOf, runCcom, type CcomRun } from './helpers/ccom.js';
import { fixtureApp, type FixtureApp } from './helpers/fixture-app.js';
import { startWebhook, type Webhook } from './helpers/ops-tools.js';

const BIN = new URL('../bin/ccom.js', import.meta.url).pathname;

/** Answers `/env/NAME` with the instance's value of NAME (`<unset>` if none). */
const ENV_APP = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  if (req.url.startsWith('/env/')) { res.writeHead(200); return res.end(process.env[req.url.slice(5)] ?? '<unset>'); }
  res.writeHead(200); res.end('ok');
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => { server.close(() => process.exit(0)); server.closeIdleConnections(); });
`;

let app: FixtureApp;
let webhook: Webhook;
after(async () => {
  await app?.cleanup();
  await webhook?.close();
});

/** `ccom env set NAME` with the value on stdin, as `printf %s "$V" | ccom env set NAME` does. */
function envSet(name: string, value: string, ...flags: string[]): Promise<CcomRun> {
  const args = ['env', 'set', name, '-C', app.dir, ...flags];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: ccomEnv(args), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, json: flags.includes('--json') ? JSON.parse(stdout) : undefined }));
    child.stdin.end(`${value}\n`);
  });
}

/** Files under `dir` (relative paths) whose bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const hits: string[] = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    if (readFileSync(file).includes(needle)) hits.push(relative(dir, file));
  }
  return hits.sort();
}

function environOf(pid: number): string {
  return readFileSync(`/proc/${pid}/environ`, 'latin1');
}

test('a secret set with `ccom env set` reaches the instances and nothing else; unset and restart take it away', { timeout: 120_000 }, async () => {
  webhook = await startWebhook();
  app = fixtureApp();
  writeFileSync(join(app.dir, 'server.js'), ENV_APP);
  app.config(`alerts:\n  webhook: ${webhook.url}\n`);
  const secret = `s3cr3t-${randomBytes(8).toString('hex')}`;

  const set = await envSet('API_TOKEN', secret, '--json');
  assert.equal(set.code, 0, set.stderr);
  const outputs: string[] = [set.stdout, set.stderr];
  const deploy = await runCcom(['deploy', '-C', app.dir, '--json']);
  assert.equal(deploy.code, 0, deploy.stderr);
  const url: string = deploy.json.deployment.url;
  assert.equal((await get(`${url}/env/API_TOKEN`)).body, secret, 'the instances have it');

  const list = await runCcom(['env', 'ls', '-C', app.dir, '--json']);
  assert.deepEqual(list.json.variables, [{ name: 'API_TOKEN', source: 'ccom env set', alsoIn: [], applied: true }]);
  const human = await runCcom(['env', 'ls', '-C', app.dir]);
  assert.match(human.stderr, /^API_TOKEN\s+ccom env set\s+live$/m);
  for (const command of [['status'], ['releases'], ['ls'], ['doctor'], ['logs']]) {
    const run = await runCcom([...command, '-C', app.dir, '--json']);
    outputs.push(run.stdout, run.stderr);
  }
  outputs.push(deploy.stdout, deploy.stderr, list.stdout, human.stdout, human.stderr);
  for (const [i, text] of outputs.entries()) assert.ok(!text.includes(secret), `output ${i} shows the secret`);

  await webhook.waitFor((body) => body.status === 'succeeded');
  assert.ok(!JSON.stringify(webhook.events).includes(secret), 'the webhook was sent the secret');

  // Only the store and the live release's saved environment hold it, both for this user alone.
  const releaseId: string = deploy.json.deployment.release;
  assert.deepEqual(filesContaining(app.state, secret), ['env-set.json', join('env', `${releaseId}.json`)]);
  for (const file of ['env-set.json', join('env', `${releaseId}.json`)]) assert.equal(statSync(join(app.state, file)).mode & 0o777, 0o600, file);

  // The process list of ccom's own processes: the agent and its guardian never had it.
  const agentPid = Number(readFileSync(join(app.state, 'agent.pid'), 'utf8'));
  for (const pid of [agentPid, parentOf(agentPid)]) assert.ok(!environOf(pid).includes(secret), `pid ${pid} has the secret in its environment`);
  assert.ok(!readFileSync(`/proc/${agentPid}/cmdline`).includes(secret));

  // Unset: the live release keeps it until a restart, then it is gone everywhere.
  const unset = await runCcom(['env', 'unset', 'API_TOKEN', '-C', app.dir]);
  assert.equal(unset.code, 0, unset.stderr);
  const pending = await runCcom(['env', 'ls', '-C', app.dir, '--json']);
  assert.deepEqual(pending.json.variables, [{ name: 'API_TOKEN', source: 'removed (the live release still has it)', alsoIn: [], applied: false }]);
  const restart = await runCcom(['restart', '-C', app.dir, '--json']);
  assert.equal(restart.code, 0, restart.stderr);
  assert.equal((await get(`${url}/env/API_TOKEN`)).body, '<unset>');
  assert.deepEqual(filesContaining(app.state, secret), [], 'no copy of the secret is left in the state dir');

  // Never from argv: a value given as an argument is refused.
  const argv = await runCcom(['env', 'set', 'API_TOKEN', secret, '-C', app.dir]);
  assert.equal(argv.code, 2);
});
