import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fixtureApp, type FixtureApp } from './helpers/fixture-app.js';
import { runCcom } from './helpers/ccom.js';
import { RawClient } from './helpers/raw-client.js';

/**
 * The hostile requests of issue 8 against the real agent's public port (the built CLI deploys
 * a real app): the hijack and CONNECT are refused by the proxy, and the app keeps serving.
 */

let app: FixtureApp;
let port: number;
before(async () => {
  app = fixtureApp('v1');
  app.config();
  const deployed = await runCcom(['deploy', '-C', app.dir, '--json']);
  assert.equal(deployed.code, 0, deployed.stderr);
  port = Number(new URL(deployed.json.deployment.url as string).port);
});
after(async () => {
  await app.cleanup();
});

const HALF = 'GET /echo?x HTTP/1.1\r\nHost: attacker\r\nX-Swallow: ';

test('through the agent: Connection naming Content-Length is refused and the next client gets its own answer', { timeout: 60_000 }, async () => {
  for (const connection of ['Content-Length', 'keep-alive, Content-Length', 'Host']) {
    const attacker = new RawClient(port).send(`POST /upload HTTP/1.1\r\nHost: shop\r\nConnection: ${connection}\r\nContent-Length: ${HALF.length}\r\n\r\n${HALF}`);
    await attacker.closed();
    assert.match(attacker.data, /^HTTP\/1\.1 400 [^]*x-ccom: bad-request\r\n[^]*Connection may not name/, connection);
    const victim = new RawClient(port).send('GET / HTTP/1.1\r\nHost: shop\r\nCookie: session=victim\r\nConnection: close\r\n\r\n');
    await victim.closed();
    assert.match(victim.data, /^HTTP\/1\.1 200 [^]*ok v1/, connection);
  }
});

test('through the agent: 40 CONNECTs are answered 405 by the proxy and count as no error of the release', { timeout: 120_000 }, async () => {
  for (let i = 0; i < 40; i++) {
    const client = new RawClient(port).send('CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n');
    await client.closed();
    assert.match(client.data, /^HTTP\/1\.1 405 Method Not Allowed\r\n[^]*x-ccom: bad-request\r\n/);
    assert.doesNotMatch(client.data, /upstream|instance/);
  }
  const status = await runCcom(['status', '-C', app.dir, '--json']);
  assert.equal(status.code, 0, status.stderr);
  const metrics = await (await fetch(status.json.monitoring as string)).text();
  // What the canary analysis reads: a CONNECT once counted here as a connection error (a 502).
  const errors = metrics.match(/^ccom_connection_errors_total\{[^}]*\} (\d+)$/m);
  assert.ok(errors, metrics.slice(0, 400));
  assert.equal(errors[1], '0');
  assert.doesNotMatch(metrics, /^ccom_requests_total\{[^}]*class="5xx"[^}]*\} [1-9]/m);
});
