import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { get, runCcom } from './helpers/ccom.js';
import { fixtureApp, type FixtureApp } from './helpers/fixture-app.js';
import { deployJson, writeOpsConfig } from './helpers/ops-tools.js';

/**
 * Like an express-generator app: its error handler shows the stack unless NODE_ENV is
 * production (`req.app.get('env')` defaults to development), and, like Next.js, it listens on
 * HOSTNAME. `/env` shows what the instance got.
 */
const EXPRESS_LIKE = `
const http = require('node:http');
const env = process.env.NODE_ENV || 'development';
http.createServer((req, res) => {
  if (req.url === '/healthz' || req.url === '/') return res.end('ok v1');
  if (req.url === '/env') return res.end(JSON.stringify({ NODE_ENV: process.env.NODE_ENV, HOST: process.env.HOST, HOSTNAME: process.env.HOSTNAME, LOG_LEVEL: process.env.LOG_LEVEL }));
  const err = new Error('Not Found');
  res.statusCode = 404;
  res.end(env === 'development' ? '<h1>Not Found</h1><pre>' + err.stack + '</pre>' : '<h1>Not Found</h1>');
}).listen(Number(process.env.PORT), process.env.LISTEN_ANYWHERE ? undefined : process.env.HOSTNAME);
`;

type Check = { name: string; status: string; message: string };

describe('instances get production defaults', () => {
  let app: FixtureApp;
  let url: string;

  before(async () => {
    app = fixtureApp('v1');
    writeFileSync(join(app.dir, 'server.js'), EXPRESS_LIKE);
    writeOpsConfig(app, 'env:\n  values:\n    LOG_LEVEL: debug\n');
    const { run, doc } = await deployJson(app.dir);
    assert.equal(run.code, 0, run.stderr);
    url = doc.url;
  });
  after(() => app.cleanup());

  it('an express-like app shows no stack trace on a 404: NODE_ENV is production', async () => {
    const res = await get(`${url}/no-such-page`);
    assert.equal(res.status, 404);
    assert.doesNotMatch(res.body, /at .*\(.*:\d+:\d+\)|server\.js/, 'no stack trace reaches the public');
    assert.deepEqual(JSON.parse((await get(`${url}/env`)).body), { NODE_ENV: 'production', HOST: '127.0.0.1', HOSTNAME: '127.0.0.1', LOG_LEVEL: 'debug' });
  });

  it('an instance listens on 127.0.0.1 only, and doctor says so', async () => {
    const doctor = await runCcom(['doctor', '-C', app.dir, '--json']);
    const check = (doctor.json.checks as Check[]).find((c) => c.name === 'listen-address');
    assert.equal(check?.status, 'pass', JSON.stringify(check));
    assert.match(check!.message, /2 instance\(s\) listen on loopback only/);
  });

  it('env.values win over the defaults, and doctor warns about an app that binds all interfaces anyway', async () => {
    writeOpsConfig(app, 'env:\n  values:\n    NODE_ENV: staging\n    LISTEN_ANYWHERE: 1\n');
    const { run } = await deployJson(app.dir);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse((await get(`${url}/env`)).body).NODE_ENV, 'staging');
    const doctor = await runCcom(['doctor', '-C', app.dir, '--json']);
    const check = (doctor.json.checks as Check[]).find((c) => c.name === 'listen-address');
    assert.equal(check?.status, 'warn', JSON.stringify(check));
    assert.match(check!.message, /listens on (0\.0\.0\.0|\[::\]):\d+.*reachable from other machines around ccom's proxy/);
  });
});
