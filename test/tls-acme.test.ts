import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { connect, type ConnectionOptions } from 'node:tls';
import { runCcom } from './helpers/ccom.js';
import { fixtureApp } from './helpers/fixture-app.js';
import { freePort, startPebble } from './helpers/pebble.js';
import { curl, tlsGet, writeProtoApp, writeTlsConfig } from './helpers/tls-site.js';

test('first deploy gets a certificate from a real ACME server: https on the domains, 421 for other names, 308 from http, keys 0600', { timeout: 120_000 }, async (t) => {
  const [port, httpPort] = await Promise.all([freePort(), freePort()]);
  const pebble = await startPebble({ httpPort });
  const app = fixtureApp();
  t.after(async () => {
    await app.cleanup();
    await pebble.stop();
  });
  writeProtoApp(app, 'v1');
  writeTlsConfig(app, { port, httpPort, directory: pebble.directory, caFile: pebble.caFile });

  const deploy = await runCcom(['deploy', '-C', app.dir]);
  assert.equal(deploy.code, 0, deploy.stdout + deploy.stderr);
  assert.equal(deploy.stdout.trim(), `https://shop.test:${port}`);
  assert.match(deploy.stderr, new RegExp(`live at https://shop\\.test:${port}!`));
  assert.doesNotMatch(deploy.stdout + deploy.stderr, /PRIVATE KEY/);

  // A user's curl, trusting only pebble's root: the chain, the SNI and the name all check out.
  const home = curl('shop.test', port, '/', pebble.rootFile);
  assert.equal(home.code, 0, home.out);
  assert.equal(home.out, 'ok v1 proto=https');
  assert.doesNotMatch(curl('shop.test', port, '/', pebble.rootFile, ['-D', '-', '-o', '/dev/null']).out, /strict-transport-security/i, 'no HSTS unless tls.hsts');
  assert.equal(curl('www.shop.test', port, '/', pebble.rootFile).out, 'ok v1 proto=https');

  // Another name: by Host over a good connection, and by SNI, each a 421 naming what is served.
  const byHost = curl('shop.test', port, '/', pebble.rootFile, ['-H', 'Host: other.test', '-w', '\n%{http_code}']);
  assert.match(byHost.out, /421 misdirected request: this server answers shop\.test, www\.shop\.test, not "other\.test" \(Host header\)/);
  assert.match(byHost.out, /\n421$/);
  const bySni = await rawRequests(port, { servername: 'other.test', rejectUnauthorized: false }, 'GET / HTTP/1.1\r\nhost: shop.test\r\nconnection: close\r\n\r\n');
  assert.match(bySni, /^HTTP\/1\.1 421 [^]*not "other\.test" \(TLS server name\)/);

  // Plain HTTP: a 308 to https keeping the path, but challenge paths are answered, not redirected.
  const redirect = await plainGet(httpPort, '/cart?x=1');
  assert.equal(redirect.status, 308);
  assert.equal(redirect.location, `https://shop.test:${port}/cart?x=1`);
  assert.equal((await plainGet(httpPort, '/.well-known/acme-challenge/none')).status, 404);

  // Keys are the user's alone, in the app's state folder.
  const dir = join(app.state, 'tls');
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  for (const key of ['shop.test.key', 'account.key']) assert.equal(statSync(join(dir, key)).mode & 0o777, 0o600, key);
  assert.match(readFileSync(join(dir, 'shop.test.crt'), 'utf8'), /BEGIN CERTIFICATE/);

  // Doctor: the certificate per domain (issuer, expiry, names) and both ports.
  const doctor = await runCcom(['doctor', '-C', app.dir, '--json']);
  const checks = doctor.json.checks as { name: string; status: string; message: string }[];
  const cert = checks.find((c) => c.name === 'certificate shop.test');
  assert.equal(cert?.status, 'pass', JSON.stringify(checks));
  assert.match(cert.message, /issued by .*Pebble.*expires .* for shop\.test, www\.shop\.test/);
  assert.equal(checks.find((c) => c.name === 'https-ports')?.status, 'pass');
  // .test names never resolve outside pebble's own DNS: doctor says so, with the record to create.
  assert.match(checks.find((c) => c.name === 'dns shop.test')?.message ?? '', /shop\.test does not resolve here/);

  // Keep-alive through TLS: two requests on one connection.
  const answers = await rawRequests(port, { servername: 'shop.test', ca: readFileSync(pebble.rootFile) }, 'GET / HTTP/1.1\r\nhost: shop.test\r\n\r\nGET /again HTTP/1.1\r\nhost: shop.test\r\nconnection: close\r\n\r\n');
  assert.match(answers, /ok v1 proto=https[^]*ok v1 proto=https/);

  // The smuggling defences hold over TLS: Content-Length with Transfer-Encoding is refused, the connection closed.
  const smuggled = await rawRequests(port, { servername: 'shop.test', ca: readFileSync(pebble.rootFile) }, 'POST / HTTP/1.1\r\nhost: shop.test\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nhost: shop.test\r\n\r\n');
  assert.match(smuggled, /^HTTP\/1\.1 400 /);
  assert.doesNotMatch(smuggled, /ok v1/);

  // A WebSocket through TLS: the Upgrade is tunnelled, bytes flow both ways.
  assert.equal(await upgradeEcho(port, readFileSync(pebble.rootFile)), 'echo ping');

  // An agent killed with -9 comes back on https with the stored certificate, no new order.
  const serial = (await tlsGet(port, readFileSync(pebble.rootFile), false)).serial;
  await pebble.stop();
  process.kill(Number(readFileSync(join(app.state, 'agent.pid'), 'utf8')), 'SIGKILL');
  let again = curl('shop.test', port, '/', pebble.rootFile);
  for (let i = 0; i < 40 && again.out !== 'ok v1 proto=https'; i++) {
    await new Promise((r) => setTimeout(r, 250));
    again = curl('shop.test', port, '/', pebble.rootFile);
  }
  assert.equal(again.out, 'ok v1 proto=https');
  assert.equal((await tlsGet(port, readFileSync(pebble.rootFile), false)).serial, serial);
});

test('an unreachable ACME server blocks the first deploy with exit 2, its reason and the fix', { timeout: 60_000 }, async (t) => {
  const [port, httpPort, closed] = await Promise.all([freePort(), freePort(), freePort()]);
  const app = fixtureApp();
  t.after(() => app.cleanup());
  writeProtoApp(app, 'v1');
  writeTlsConfig(app, { port, httpPort, directory: `https://127.0.0.1:${closed}/dir`, caFile: '/dev/null' });
  const deploy = await runCcom(['deploy', '-C', app.dir]);
  assert.equal(deploy.code, 2, deploy.stdout + deploy.stderr);
  const out = deploy.stdout + deploy.stderr;
  assert.match(out, new RegExp(`could not reach the certificate authority at https://127\\.0\\.0\\.1:${closed}/dir: .*ECONNREFUSED`));
  assert.match(out, /check tls\.acme\.directory and that this machine can reach it/);
});

/** Writes `requests` on one TLS connection and reads until the server closes it. */
function rawRequests(port: number, options: ConnectionOptions, requests: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ...options }, () => socket.write(requests));
    let text = '';
    socket.on('data', (c: Buffer) => (text += c));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

function plainGet(port: number, path: string): Promise<{ status: number; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path, headers: { host: 'shop.test' }, agent: false }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, location: res.headers.location });
    })
      .on('error', reject)
      .end();
  });
}

function upgradeEcho(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'shop.test', ca }, () => {
      socket.write('GET /ws HTTP/1.1\r\nhost: shop.test\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n');
    });
    let text = '';
    socket.on('data', (c: Buffer) => {
      text += c;
      if (text.includes('\r\n\r\n') && !text.includes('ping')) {
        assert.match(text, /^HTTP\/1\.1 101 /);
        text = 'ping';
        socket.write('ping');
      } else if (text.startsWith('ping') && text.includes('echo ping')) {
        socket.destroy();
        resolve('echo ping');
      }
    });
    socket.on('error', reject);
  });
}
