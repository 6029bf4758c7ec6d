import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCcom } from './helpers/ccom.js';
import { fixtureApp } from './helpers/fixture-app.js';
import { sample, sleep, statusOf } from './helpers/progressive.js';

/**
 * An app whose health route fails while a marker file exists (all instances, or one by its
 * CCOM_INSTANCE), as a health route that checks a dependency the pages do not need; `/` always
 * answers with the instance that served it.
 */
const SERVER = `
const http = require('node:http');
const { existsSync } = require('node:fs');
const down = () => existsSync('MARKER_DIR/health-down') || existsSync('MARKER_DIR/health-down-' + process.env.CCOM_INSTANCE);
const server = http.createServer((req, res) => {
  if (req.url === '/healthz') { res.writeHead(down() ? 503 : 200); return res.end(down() ? 'db unreachable' : 'ok'); }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok ' + process.env.CCOM_INSTANCE);
});
server.keepAliveTimeout = 5000;
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => { server.close(() => process.exit(0)); server.closeIdleConnections(); });
`;

const app = fixtureApp('v1');
after(() => app.cleanup());

async function instancesIn(state: string, count: number): Promise<string[]> {
  for (let i = 0; i < 100; i++) {
    const instances = (await statusOf(app.dir)).releases.flatMap((r) => r.instances);
    if (instances.filter((x) => x.state === state).length === count) return instances.filter((x) => x.state === state).map((x) => x.id);
    await sleep(100);
  }
  throw new Error(`${count} instance(s) never became ${state}`);
}

const served = async () => Object.keys((await sample(`${url}/`, 20, 4)).bodies).sort();
let url = '';

test('with one instance failing health checks, traffic goes to the healthy one only', async () => {
  writeFileSync(join(app.dir, 'server.js'), SERVER.replaceAll('MARKER_DIR', app.dir));
  // health.timeout long enough that nothing is restarted while the test looks.
  app.config();
  writeFileSync(join(app.dir, 'ccom.yaml'), readFileSync(join(app.dir, 'ccom.yaml'), 'utf8').replace('timeout: 5s', 'timeout: 60s'));
  const run = await runCcom(['deploy', '-C', app.dir, '--json']);
  assert.equal(run.code, 0, run.stderr);
  url = run.json.deployment.url;
  const [first, second] = await instancesIn('healthy', 2);
  writeFileSync(join(app.dir, `health-down-${first}`), '');
  await instancesIn('unhealthy', 1);
  assert.deepEqual(await served(), [`ok ${second}`], 'only the healthy instance answers');
  rmSync(join(app.dir, `health-down-${first}`));
  await instancesIn('healthy', 2);
});

test('with every instance of the live release failing health checks but running, users still get answers, not 503 (panic routing)', async () => {
  writeFileSync(join(app.dir, 'health-down'), '');
  const ids = await instancesIn('unhealthy', 2);
  assert.deepEqual(await served(), ids.map((id) => `ok ${id}`).sort(), 'both instances answer: no 503');
  const log = () => readFileSync(join(app.state, 'logs', 'agent.log'), 'utf8');
  assert.match(log(), /no healthy instance of \S+: its traffic goes to its 2 instance\(s\) failing health checks \(panic routing\)/);
  rmSync(join(app.dir, 'health-down'));
  await instancesIn('healthy', 2);
  assert.match(log(), /has a healthy instance again: panic routing ends/);
});
