import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCcom } from './helpers/ccom.js';
import { deadPid, writeConfig } from './helpers/failure-tools.js';
import { fixtureApp, type FixtureApp } from './helpers/fixture-app.js';
import { deployJson, writeOpsConfig } from './helpers/ops-tools.js';

/** The agent client prints a line for each wait for an agent to come back (CCOM_DEBUG=agent-client). */
const DEBUG = { CCOM_DEBUG: 'agent-client' };
const WAITED = /ccom debug: agent at .* not answering/;

const NOT_FOUND_APP = `
require('node:http').createServer((req, res) => {
  res.statusCode = req.url === '/' || req.url === '/healthz' ? 200 : 404;
  res.end(res.statusCode === 200 ? 'ok v1' : 'Not Found');
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

describe('no wait for an agent that was never started', () => {
  let app: FixtureApp;
  before(() => {
    app = fixtureApp('v1');
    writeOpsConfig(app);
  });
  after(() => app.cleanup());

  it('doctor on a never-deployed app asks no agent twice', async () => {
    const doctor = await runCcom(['doctor', '-C', app.dir, '--json'], DEBUG);
    assert.ok(doctor.json?.checks, doctor.stderr);
    assert.doesNotMatch(doctor.stderr, WAITED);
  });

  it("the first deploy's capacity step does not wait for an agent", async () => {
    const run = await runCcom(['deploy', '-C', app.dir, '--json'], DEBUG);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.json.deployment.steps.find((s: { name: string }) => s.name === 'capacity')?.status, 'passed');
    assert.doesNotMatch(run.stderr, WAITED);
  });

  it('after down, the next deploy does not wait either', async () => {
    assert.equal((await runCcom(['down', '-C', app.dir])).code, 0);
    const run = await runCcom(['deploy', '-C', app.dir, '--json'], DEBUG);
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stderr, WAITED);
    assert.equal((await runCcom(['down', '-C', app.dir])).code, 0);
  });

  it('an agent whose pid file remains (it died; its guardian would start it again) is waited for', async () => {
    // The control for the assertions above: the debug line does appear when the client waits.
    mkdirSync(app.state, { recursive: true });
    writeFileSync(join(app.state, 'agent.pid'), String(await deadPid()));
    const doctor = await runCcom(['doctor', '-C', app.dir, '--json'], DEBUG);
    assert.match(doctor.stderr, WAITED);
  });
});

describe('a health path that answers 404', () => {
  let app: FixtureApp;
  before(async () => {
    app = fixtureApp('v1');
    // Answers 404 for routes it does not have, as every framework does.
    writeFileSync(join(app.dir, 'server.js'), NOT_FOUND_APP);
    writeOpsConfig(app);
    const { run } = await deployJson(app.dir);
    assert.equal(run.code, 0, run.stderr);
  });
  after(() => app.cleanup());

  it('fails the deploy after a few seconds, well before health.timeout, with the health.path fix', async () => {
    writeConfig(app, [['  path: /healthz\n', '  path: /no-such-route\n'], ['  timeout: 5s\n', '  timeout: 60s\n']]);
    const run = await runCcom(['deploy', '-C', app.dir, '--json']);
    assert.equal(run.code, 1, run.stderr);
    const doc = run.json.deployment;
    assert.match(doc.reason, /health check GET \/no-such-route answered HTTP 404 for 3s/);
    assert.ok(doc.durationMs < 60_000, `failed before health.timeout (60s): ${doc.durationMs}ms`);
    assert.match(run.stderr, /fix: set health\.path in ccom\.yaml to a route that answers 200/);
  });
});
