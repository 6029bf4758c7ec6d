import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCcom } from './helpers/ccom.js';
import { fixtureApp } from './helpers/fixture-app.js';
import { freePort, startPebble } from './helpers/pebble.js';
import { tlsGet, writeProtoApp, writeTlsConfig } from './helpers/tls-site.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a renewal swaps the certificate under keep-alive and new-connection load through TLS with 0 failed requests', { timeout: 150_000 }, async (t) => {
  const [port, httpPort] = await Promise.all([freePort(), freePort()]);
  // 30 s certificates: renewal is due with 10 s left, about 20 s after the first one is issued.
  const pebble = await startPebble({ httpPort, validitySeconds: 30 });
  const app = fixtureApp();
  t.after(async () => {
    await app.cleanup();
    await pebble.stop();
  });
  writeProtoApp(app, 'v1');
  writeTlsConfig(app, { port, httpPort, directory: pebble.directory, caFile: pebble.caFile });
  const deploy = await runCcom(['deploy', '-C', app.dir]);
  assert.equal(deploy.code, 0, deploy.stdout + deploy.stderr);

  const ca = readFileSync(pebble.rootFile);
  const first = (await tlsGet(port, ca, false)).serial;
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 4 });
  t.after(() => keepAlive.destroy());
  const failures: string[] = [];
  const serials = new Set<string>([first]);
  let renewedAt = 0;
  /** Requests answered after the renewal over a kept-alive connection that still shows the old certificate. */
  let oldConnectionAfterRenewal = 0;
  let ok = 0;
  let running = true;
  const worker = async (agent: Agent | false) => {
    while (running) {
      try {
        const answer = await tlsGet(port, ca, agent);
        if (answer.status !== 200 || answer.body !== 'ok v1 proto=https') failures.push(`${answer.status} ${answer.body}`);
        else ok++;
        if (!serials.has(answer.serial)) {
          serials.add(answer.serial);
          renewedAt ||= Date.now();
        }
        if (renewedAt && agent && answer.reused && answer.serial === first) oldConnectionAfterRenewal++;
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  };
  const workers = [...Array.from({ length: 4 }, () => worker(keepAlive)), ...Array.from({ length: 2 }, () => worker(false))];
  const deadline = Date.now() + 60_000;
  while (!renewedAt && Date.now() < deadline) await sleep(250);
  // Load goes on across the swap: new handshakes get the new certificate, open connections keep theirs.
  await sleep(2_000);
  running = false;
  await Promise.all(workers);

  assert.ok(renewedAt, `no new certificate within 60 s (served serials: ${[...serials].join(', ')})`);
  assert.deepEqual(failures, []);
  assert.ok(ok > 50, `only ${ok} requests answered`);
  assert.ok(oldConnectionAfterRenewal > 0, 'no kept-alive connection from before the renewal was used after it');
  assert.notEqual((await tlsGet(port, ca, false)).serial, first);
  assert.match(readFileSync(join(app.state, 'logs', 'agent.log'), 'utf8'), /certificate for shop\.test, www\.shop\.test renewed: valid until/);
  console.log(`renewal under load: ${ok} requests, 0 failed; ${oldConnectionAfterRenewal} answered on pre-renewal keep-alive connections after the swap`);
});

test('an ACME server gone later never takes the site down: the renewal fails, doctor warns, a deploy still succeeds on the old certificate', { timeout: 240_000 }, async (t) => {
  const [port, httpPort] = await Promise.all([freePort(), freePort()]);
  // 90 s: the renewal is due with 30 s left, and a busy machine still deploys v2 before the old
  // certificate expires (with 45 s it had expired by the last request: CERT_HAS_EXPIRED in a CI run).
  const pebble = await startPebble({ httpPort, validitySeconds: 90 });
  const app = fixtureApp();
  t.after(async () => {
    await app.cleanup();
    await pebble.stop();
  });
  writeProtoApp(app, 'v1');
  writeTlsConfig(app, { port, httpPort, directory: pebble.directory, caFile: pebble.caFile });
  const events: { event: string; status: string; reason?: string }[] = [];
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      events.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  t.after(() => hook.close());
  appendFileSync(join(app.dir, 'ccom.yaml'), `alerts:\n  webhook: http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook\n`);
  const first = await runCcom(['deploy', '-C', app.dir]);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  const ca = readFileSync(pebble.rootFile);
  const served = (await tlsGet(port, ca, false)).serial;
  await pebble.stop();

  // Renewal is due with 30 s left: it fails, and the agent says so; doctor warns with its reason.
  let certificateCheck: { status: string; message: string } | undefined;
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const doctor = await runCcom(['doctor', '-C', app.dir, '--json']);
    certificateCheck = (doctor.json.checks as { name: string; status: string; message: string }[]).find((c) => c.name === 'certificate shop.test');
    if (certificateCheck?.message.includes('renewal failed')) break;
    await sleep(1_000);
  }
  assert.equal(certificateCheck?.status, 'warn', JSON.stringify(certificateCheck));
  assert.match(certificateCheck.message, /the last renewal failed: could not reach the certificate authority .*ECONNREFUSED/);
  // Within 14 days of expiry (a 90 s certificate always is), the webhook hears of it.
  const warning = events.find((e) => e.event === 'agent' && e.status === 'certificate_expiring');
  assert.match(warning?.reason ?? JSON.stringify(events), /the certificate for shop\.test, www\.shop\.test expires on .* and could not be renewed: could not reach the certificate authority/);

  writeProtoApp(app, 'v2');
  const second = await runCcom(['deploy', '-C', app.dir]);
  assert.equal(second.code, 0, second.stdout + second.stderr);
  const after = await tlsGet(port, ca, false);
  assert.equal(after.body, 'ok v2 proto=https');
  assert.equal(after.serial, served, 'the certificate in use keeps serving');
  assert.match(readFileSync(join(app.state, 'logs', 'agent.log'), 'utf8'), /could not be renewed, the current one keeps serving until/);
});
