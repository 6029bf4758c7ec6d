import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCcom } from './helpers/ccom.js';
import { BASE_CONFIG, fixtureApp } from './helpers/fixture-app.js';
import { freePort } from './helpers/pebble.js';
import { curl, writeProtoApp } from './helpers/tls-site.js';

/** A self-signed certificate for the names, as `openssl` makes it (its own trust anchor for curl). */
function selfSigned(dir: string, name: string, names: string[]): { cert: string; key: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  const san = names.map((n) => `DNS:${n}`).join(',');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '30', '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${san}`], { stdio: 'pipe' });
  return { cert, key };
}

test('tls.cert and tls.key: served by SNI with tls.hsts; a deploy with a key that does not fit is blocked (exit 2) and the site keeps its certificate', { timeout: 120_000 }, async (t) => {
  const certs = mkdtempSync(join(tmpdir(), 'ccom-certs-'));
  const [port, httpPort] = await Promise.all([freePort(), freePort()]);
  const app = fixtureApp();
  t.after(async () => {
    await app.cleanup();
    rmSync(certs, { recursive: true, force: true });
  });
  const good = selfSigned(certs, 'shop', ['shop.test', 'www.shop.test']);
  const other = selfSigned(certs, 'other', ['shop.test']);
  const config = (cert: string, key: string) =>
    writeFileSync(join(app.dir, 'ccom.yaml'), `${BASE_CONFIG.replace('proxy:\n  port: 0\n', `proxy:\n  port: ${port}\n  httpPort: ${httpPort}\n`)}domains: [shop.test, www.shop.test]\ntls:\n  cert: ${cert}\n  key: ${key}\n  hsts: true\n`);
  writeProtoApp(app, 'v1');
  config(good.cert, good.key);
  const first = await runCcom(['deploy', '-C', app.dir]);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.equal(curl('www.shop.test', port, '/', good.cert).out, 'ok v1 proto=https');
  // tls.hsts: browsers are told to use https only, on every answer of the app.
  assert.match(curl('shop.test', port, '/', good.cert, ['-D', '-', '-o', '/dev/null']).out, /\r\nstrict-transport-security: max-age=31536000\r\n/);

  writeProtoApp(app, 'v2');
  config(good.cert, other.key);
  const second = await runCcom(['deploy', '-C', app.dir]);
  assert.equal(second.code, 2, second.stdout + second.stderr);
  assert.match(second.stderr, new RegExp(`tls\\.key ${other.key} does not go with tls\\.cert ${good.cert}`));
  assert.match(second.stderr, /fix: point tls\.cert and tls\.key at one certificate chain/);
  assert.equal(curl('shop.test', port, '/', good.cert).out, 'ok v1 proto=https');
});

test('a plain-HTTP port (proxy.httpPort) held by another program blocks the deploy at capacity, naming it; the port held by the app itself passes', { timeout: 120_000 }, async (t) => {
  const certs = mkdtempSync(join(tmpdir(), 'ccom-certs-'));
  const [port, httpPort] = await Promise.all([freePort(), freePort()]);
  const app = fixtureApp();
  const squatter = createServer();
  t.after(async () => {
    squatter.close();
    await app.cleanup();
    rmSync(certs, { recursive: true, force: true });
  });
  const site = selfSigned(certs, 'shop', ['shop.test']);
  writeFileSync(join(app.dir, 'ccom.yaml'), `${BASE_CONFIG.replace('proxy:\n  port: 0\n', `proxy:\n  port: ${port}\n  httpPort: ${httpPort}\n`)}domains: [shop.test]\ntls:\n  cert: ${site.cert}\n  key: ${site.key}\n`);
  writeProtoApp(app, 'v1');
  await new Promise<void>((resolve) => squatter.listen(httpPort, '127.0.0.1', resolve));

  const blocked = await runCcom(['deploy', '-C', app.dir]);
  assert.equal(blocked.code, 2, blocked.stdout + blocked.stderr);
  assert.match(blocked.stderr, new RegExp(`http-port: port ${httpPort} on 127\\.0\\.0\\.1 is in use by pid ${process.pid}`));
  assert.match(blocked.stderr, /set proxy\.httpPort in ccom\.yaml to a free port/);

  await new Promise<void>((resolve) => squatter.close(() => resolve()));
  const first = await runCcom(['deploy', '-C', app.dir, '--json']);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  writeProtoApp(app, 'v2');
  const second = await runCcom(['deploy', '-C', app.dir, '--json']);
  assert.equal(second.code, 0, second.stdout + second.stderr);
  const capacity = second.json.deployment.steps.find((s: { name: string }) => s.name === 'capacity');
  assert.match(capacity.message, /http-port/);
  assert.equal(curl('shop.test', port, '/', site.cert).out, 'ok v2 proto=https');
});
