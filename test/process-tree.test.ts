import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { get, runCcom } from './helpers/ccom.js';
import { fixtureApp, type FixtureApp } from './helpers/fixture-app.js';
import { deployJson, parsePrometheus, series, writeOpsConfig } from './helpers/ops-tools.js';

/**
 * An app started the way most are (`start: npm start`): npm → sh → node server.js. `/burn`
 * spends 0.1 s of CPU in the app, `/hog` makes it hold 150 MB, `/pid` names its process.
 */
const SERVER = `
const http = require('node:http');
const held = [];
http.createServer((req, res) => {
  if (req.url === '/pid') return res.end(String(process.pid));
  // 100 ms of CPU time (not wall time: the machine is shared) at a time, so health checks still pass.
  if (req.url === '/burn') { const start = process.cpuUsage(); while (process.cpuUsage(start).user < 100e3); return res.end('burnt'); }
  if (req.url === '/hog') {
    res.end('will hold 150 MB');
    return setTimeout(() => { if (held.length === 0) for (let i = 0; i < 15; i++) held.push(Buffer.alloc(10e6, i + 1)); }, 50);
  }
  res.end('ok v1');
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');

describe('an instance started with npm start is measured as its whole process tree', () => {
  let app: FixtureApp;
  let url: string;
  let release: string;
  const instance = async () => {
    const status = await runCcom(['status', '-C', app.dir, '--json']);
    assert.equal(status.code, 0, status.stderr);
    return { monitoring: status.json.monitoring as string, ...status.json.releases.find((r: { id: string }) => r.id === release).instances[0] };
  };

  before(async () => {
    app = fixtureApp('v1');
    writeFileSync(join(app.dir, 'server.js'), SERVER);
    writeFileSync(join(app.dir, 'package.json'), JSON.stringify({ name: 'fixture', private: true, scripts: { start: 'node server.js' } }));
    // Written by hand: `init` would have resolved it to `node server.js`.
    writeOpsConfig(app, 'limits:\n  memory: 160MB\n', { instances: 1 });
    writeFileSync(join(app.dir, 'ccom.yaml'), readFileSync(join(app.dir, 'ccom.yaml'), 'utf8').replace('start: node server.js', 'start: npm start').replace('  path: /healthz\n  interval: 200ms\n', '  path: /\n  interval: 3s\n').replace('    contains: ok\n', ''));
    const { run, doc } = await deployJson(app.dir);
    assert.equal(run.code, 0, run.stderr);
    url = doc.url;
    release = doc.release;
  });
  after(() => app.cleanup());

  it('status names the app process, and npm as the one that started it', async () => {
    const i = await instance();
    assert.equal(String(i.pid), (await get(`${url}/pid`)).body, 'pid is the node process serving requests');
    assert.match(cmdline(i.pid), /node server\.js/);
    assert.ok(i.groupPid, `groupPid is set: ${JSON.stringify(i)}`);
    assert.match(cmdline(i.groupPid), /npm/);
    const human = await runCcom(['status', '-C', app.dir]);
    assert.match(human.stderr, new RegExp(`pid ${i.pid} \\(started by ${i.groupPid}\\)`));
  });

  it("CPU is the app's, not npm's", async () => {
    for (let n = 0; n < 18; n++) assert.equal((await get(`${url}/burn`)).body, 'burnt');
    const i = await instance();
    assert.ok(i.cpuSeconds >= 1.8, `status cpuSeconds ${i.cpuSeconds} includes the app's 1.8 s`);
    const { samples } = parsePrometheus(await (await fetch(i.monitoring)).text());
    const cpu = series(samples, 'ccom_instance_cpu_seconds_total', { release })[0]!.value;
    assert.ok(cpu >= 1.8, `ccom_instance_cpu_seconds_total ${cpu} includes the app's 1.8 s`);
  });

  it('an npm-started app over limits.memory is restarted', async () => {
    assert.equal((await get(`${url}/hog`)).body, 'will hold 150 MB');
    let i = await instance();
    for (const deadline = Date.now() + 20_000; Date.now() < deadline && !(i.restarts >= 1 && i.healthy); i = await instance()) await sleep(200);
    assert.ok(i.restarts >= 1 && i.healthy, `restarted for memory and healthy again: ${JSON.stringify(i)}`);
    const { samples } = parsePrometheus(await (await fetch(i.monitoring)).text());
    assert.ok(series(samples, 'ccom_instance_memory_restarts_total', { release })[0]!.value >= 1);
    assert.equal((await get(url)).body, 'ok v1');
  });
});
