import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { test } from 'node:test';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { handOff, listenForHandoffs } from '../src/tls/handoff.js';
import { connect, type PeerCertificate } from 'node:tls';
import { MAX_PEEK_BYTES, sniFromClientHello } from '../src/tls/client-hello.js';
import { hostOfFirstRequest } from '../src/tls/request-host.js';
import { pinStateDir } from '../src/app-state.js';
import { runCcom, setCcomHome } from './helpers/ccom.js';
import { BASE_CONFIG, fixtureApp, type FixtureApp } from './helpers/fixture-app.js';
import { freePort, startPebble } from './helpers/pebble.js';
import { tlsGet, writeProtoApp, writeSiteConfig } from './helpers/tls-site.js';

const CANARY = 'strategy: canary\ncanary:\n  steps: [50, 100]\n  interval: 3s\nanalysis:\n  maxLatencyP99: 10s\n  maxLatencyRatio: 100\n  watch: 0\n';

/** A fixture app called `name` whose state lives in `home` (the CCOM_HOME both apps share, as on one machine). */
function appIn(home: string, name: string): FixtureApp {
  const app = fixtureApp();
  setCcomHome(app.dir, home);
  pinStateDir(app.dir, join(home, 'apps', name));
  return app;
}

test('two apps share one HTTPS port and one plain-HTTP port by SNI and Host: own certificates, own releases, 421 for other names, 0 failed requests across deploys of both', { timeout: 150_000 }, async (t) => {
  const [port, httpPort] = await Promise.all([freePort(), freePort()]);
  const pebble = await startPebble({ httpPort });
  const shop = fixtureApp();
  pinStateDir(shop.dir, join(shop.home, 'apps', 'shop'));
  const blog = appIn(shop.home, 'blog');
  t.after(async () => {
    await blog.cleanup().catch(() => undefined);
    await shop.cleanup();
    await pebble.stop();
  });
  const site = { port, httpPort, directory: pebble.directory, caFile: pebble.caFile };
  writeProtoApp(shop, 'shop-v1');
  writeSiteConfig(shop, { name: 'shop', domains: ['shop.test'], ...site });
  writeProtoApp(blog, 'blog-v1');
  writeSiteConfig(blog, { name: 'blog', domains: ['blog.test'], ...site, extra: CANARY });

  const first = await runCcom(['deploy', '-C', shop.dir]);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  // Blog's port is held by shop's agent: shared by host name, and blog's certificate order
  // (pebble's http-01 request to httpPort) reaches blog's agent through shop's.
  const second = await runCcom(['deploy', '-C', blog.dir]);
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.equal(second.stdout.trim(), `https://blog.test:${port}`);
  const doctor = (await runCcom(['doctor', '-C', blog.dir, '--json'])).json.checks as { name: string; status: string; message: string }[];
  for (const shared of [port, httpPort]) {
    const check = doctor.find((c) => c.name === `shared-port ${shared}`);
    assert.equal(check?.status, 'pass', JSON.stringify(doctor));
    assert.match(check.message, /the agent of shop \(.*\) holds it .*shop \(shop\.test\), blog \(blog\.test\)|blog \(blog\.test\), shop \(shop\.test\)/);
  }
  const status = await runCcom(['status', '-C', blog.dir, '--json']);
  assert.deepEqual(status.json.sharedPorts.map((s: { port: number; holder: string }) => [s.port, s.holder]), [[port, 'shop'], [httpPort, 'shop']]);
  assert.match((await runCcom(['status', '-C', blog.dir])).stderr, new RegExp(`port ${port} is shared by host name: the agent of shop \\(`));
  assert.match(doctor.find((c) => c.name === 'certificate blog.test')?.message ?? '', /for blog\.test$/);

  const ca = readFileSync(pebble.rootFile);
  // Each name gets its own app's certificate and its own app's page.
  assert.match((await servedCertificate(port, 'shop.test')).subjectaltname ?? '', /DNS:shop\.test/);
  assert.match((await servedCertificate(port, 'blog.test')).subjectaltname ?? '', /DNS:blog\.test/);
  assert.doesNotMatch((await servedCertificate(port, 'blog.test')).subjectaltname ?? '', /shop/);
  assert.equal((await tlsGet(port, ca, false, '/', 'shop.test')).body, 'ok shop-v1 proto=https');
  assert.equal((await tlsGet(port, ca, false, '/', 'blog.test')).body, 'ok blog-v1 proto=https');
  // Handed on through shop's agent, blog's requests still name the client (not "unknown", the unix socket's).
  assert.equal((await tlsGet(port, ca, false, '/xff', 'blog.test')).body, '127.0.0.1');
  // Blog's agent takes handed connections on a socket only its user may open.
  assert.equal(statSync(join(blog.state, `handoff-${port}-${agentPid(blog)}.sock`)).mode & 0o777, 0o600);

  // Another name by SNI, or another app's name by Host over a good connection: 421, never a page.
  const bySni = await rawTls(port, 'other.test', 'GET / HTTP/1.1\r\nhost: other.test\r\nconnection: close\r\n\r\n');
  assert.match(bySni, /^HTTP\/1\.1 421 [^]*not "other\.test"/);
  const byHost = await rawTls(port, 'blog.test', 'GET / HTTP/1.1\r\nhost: shop.test\r\nconnection: close\r\n\r\n');
  assert.match(byHost, /^HTTP\/1\.1 421 [^]*this server answers blog\.test, not "shop\.test" \(Host header\)/);
  // Plain HTTP: each app redirects its own name; another name gets the 421.
  assert.equal((await plainGet(httpPort, 'blog.test')).location, `https://blog.test:${port}/cart`);
  assert.equal((await plainGet(httpPort, 'shop.test')).location, `https://shop.test:${port}/cart`);
  assert.equal((await plainGet(httpPort, 'other.test')).status, 421);

  // Overlapping names are refused, naming the app that has them.
  const thief = appIn(shop.home, 'thief');
  t.after(() => thief.cleanup().catch(() => undefined));
  writeSiteConfig(thief, { name: 'thief', domains: ['www.thief.test', 'blog.test'], ...site });
  const stolen = await runCcom(['deploy', '-C', thief.dir]);
  assert.equal(stolen.code, 2, stolen.stdout + stolen.stderr);
  assert.match(stolen.stderr, new RegExp(`blog\\.test is already served on port ${port} by the ccom app "blog" in ${blog.dir.replace(/[/.]/g, '\\$&')}`));
  assert.match(stolen.stderr, /remove blog\.test from domains in one of the two ccom\.yaml files/);

  // An app without domains cannot share: the port stays blocked for it, as before.
  const plain = appIn(shop.home, 'plain');
  t.after(() => plain.cleanup().catch(() => undefined));
  writeFileSync(join(plain.dir, 'ccom.yaml'), BASE_CONFIG.replace('app: fixture', 'app: plain').replace('proxy:\n  port: 0\n', `proxy:\n  port: ${port}\n`));
  const refused = await runCcom(['deploy', '-C', plain.dir]);
  assert.equal(refused.code, 2, refused.stdout + refused.stderr);
  assert.match(refused.stderr, new RegExp(`proxy-port: port ${port} on 127\\.0\\.0\\.1 is in use by the ccom app in ${shop.dir.replace(/[/.]/g, '\\$&')}`));

  // Load on both names, kept-alive and new connections, while both apps deploy: blog a canary.
  const load = startTlsLoad(port, ca, ['shop.test', 'blog.test']);
  await new Promise((r) => setTimeout(r, 500));
  writeProtoApp(shop, 'shop-v2');
  writeProtoApp(blog, 'blog-v2');
  const [shopDeploy, blogDeploy] = await Promise.all([runCcom(['deploy', '-C', shop.dir]), runCcom(['deploy', '-C', blog.dir])]);
  await new Promise((r) => setTimeout(r, 500));
  const report = await load.stop();
  assert.equal(shopDeploy.code, 0, shopDeploy.stdout + shopDeploy.stderr);
  assert.equal(blogDeploy.code, 0, blogDeploy.stdout + blogDeploy.stderr);
  assert.match(blogDeploy.stderr, /canary:50%/);
  t.diagnostic(`load during both deploys: ${JSON.stringify(report)}`);
  assert.equal(report.failed, 0, JSON.stringify(report.failures));
  assert.ok(report.total > 200, `too little load to judge: ${report.total}`);
  assert.deepEqual(Object.keys(report.bodies['shop.test'] ?? {}).sort(), ['ok shop-v1 proto=https', 'ok shop-v2 proto=https']);
  assert.deepEqual(Object.keys(report.bodies['blog.test'] ?? {}).sort(), ['ok blog-v1 proto=https', 'ok blog-v2 proto=https']);

  // An agent killed with -9, the port's owner's or another app's: its guardian starts it again,
  // meanwhile the owner waits for the other's handoff socket, the port's backlog for the owner.
  // Only requests in flight on the killed agent at that instant may fail (3 clients per name).
  for (const [victim, name] of [[blog, 'blog.test'], [shop, 'shop.test']] as const) {
    const pid = agentPid(victim);
    const during = startTlsLoad(port, ca, ['shop.test', 'blog.test']);
    await new Promise((r) => setTimeout(r, 500));
    process.kill(pid, 'SIGKILL');
    await restarted(victim, pid);
    await new Promise((r) => setTimeout(r, 1500));
    const killed = await during.stop();
    t.diagnostic(`kill -9 of ${name}'s agent under load: ${killed.failed} of ${killed.total} failed: ${JSON.stringify(killed.failures)}`);
    const resetInFlight = (key: string) => /: ECONNRESET$/.test(key) && (victim === shop || key.startsWith(name));
    assert.deepEqual(Object.keys(killed.failures).filter((key) => !resetInFlight(key)), [], JSON.stringify(killed.failures));
    assert.ok(killed.failed <= 6, JSON.stringify(killed.failures));
    assert.ok(Object.values(killed.bodies).every((bodies) => Object.keys(bodies).every((body) => body.endsWith('-v2 proto=https'))));
  }

  // The port's owner goes down: blog's agent takes the port and keeps serving blog.
  const during = startTlsLoad(port, ca, ['blog.test'], { keepAlive: false });
  const down = await runCcom(['down', '-C', shop.dir]);
  assert.equal(down.code, 0, down.stdout + down.stderr);
  let after = await tlsGet(port, ca, false, '/', 'blog.test').catch((err: Error) => ({ body: err.message }));
  for (let i = 0; i < 50 && after.body !== 'ok blog-v2 proto=https'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    after = await tlsGet(port, ca, false, '/', 'blog.test').catch((err: Error) => ({ body: err.message }));
  }
  await new Promise((r) => setTimeout(r, 300));
  const gap = await during.stop();
  const gapMs = gap.failedFrom === undefined ? 0 : (gap.failedUntil as number) - gap.failedFrom;
  t.diagnostic(`new connections to blog.test while shop went down: ${gap.failed} of ${gap.total} failed, within ${gapMs} ms: ${JSON.stringify(gap.failures)}`);
  assert.equal(after.body, 'ok blog-v2 proto=https', 'blog serves on the port after its owner went down');
  // A short gap of reset or refused connections while the port changes hands; never shop's certificate or page for blog.
  assert.deepEqual(Object.keys(gap.failures).filter((key) => !/: (ECONNRESET|ECONNREFUSED)$/.test(key)), [], JSON.stringify(gap.failures));
  assert.equal((await plainGet(httpPort, 'blog.test')).location, `https://blog.test:${port}/cart`);
});

test('the ClientHello parser finds the server name in real handshakes, whole or in pieces, and refuses what is not one', async () => {
  const hello = await clientHello('Shop.Test');
  assert.deepEqual(sniFromClientHello(hello), { kind: 'done', name: 'shop.test' });
  // Byte by byte, as a slow client sends it: "more" until the whole message is there.
  for (let i = 0; i < hello.length; i++) assert.deepEqual(sniFromClientHello(hello.subarray(0, i)), { kind: 'more' }, `after ${i} bytes`);
  // The same handshake split over two TLS records.
  const body = hello.subarray(5);
  const cut = 40;
  const record = (part: Buffer) => Buffer.concat([Buffer.from([0x16, 0x03, 0x01, part.length >> 8, part.length & 0xff]), part]);
  assert.deepEqual(sniFromClientHello(Buffer.concat([record(body.subarray(0, cut)), record(body.subarray(cut))])), { kind: 'done', name: 'shop.test' });
  // No SNI (an IP address as the server name): done, without a name.
  assert.deepEqual(sniFromClientHello(await clientHello(undefined)), { kind: 'done', name: undefined });
  // Plain HTTP on the TLS port, a handshake that is not a ClientHello, and lengths past the bound.
  assert.equal(sniFromClientHello(Buffer.from('GET / HTTP/1.1\r\n')).kind, 'invalid');
  assert.equal(sniFromClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00])).kind, 'invalid');
  assert.equal(sniFromClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x08, 0x01, 0xff, 0xff, 0xff])).kind, 'invalid');
  // Lengths inside the hello that run past its end: invalid, never an exception.
  const broken = Buffer.from(hello);
  broken.writeUInt16BE(0xffff, 5 + 4 + 2 + 32 + 1 + broken[5 + 4 + 2 + 32]!);
  assert.equal(sniFromClientHello(broken).kind, 'invalid');
  // A ClientHello claiming more than the bound is refused before it is read.
  const endless = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x00, 0x50, 0x00]), Buffer.alloc(MAX_PEEK_BYTES)]);
  assert.equal(sniFromClientHello(endless).kind, 'invalid');
});

test('the first request head names its host; a head without Host has none; a head past 16 KB is refused', () => {
  assert.deepEqual(hostOfFirstRequest(Buffer.from('GET / HTTP/1.1\r\nuser-agent: x\r\nHost: Blog.Test:80\r\n\r\n')), { kind: 'done', name: 'blog.test' });
  assert.deepEqual(hostOfFirstRequest(Buffer.from('GET / HTTP/1.1\r\nHost: blog.test')), { kind: 'more' });
  assert.deepEqual(hostOfFirstRequest(Buffer.from('GET / HTTP/1.0\r\n\r\n')), { kind: 'done', name: undefined });
  assert.equal(hostOfFirstRequest(Buffer.alloc(MAX_PEEK_BYTES, 'a')).kind, 'invalid');
});

test('a handed connection arrives with the PROXY line read: the client\'s address and port, its bytes in order, both directions piped', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ccom-handoff-'));
  const path = join(dir, 'handoff.sock');
  const seen: { address?: string; port?: number; bytes: string } = { bytes: '' };
  const receiver = await listenForHandoffs(path, (socket) => {
    seen.address = socket.remoteAddress;
    seen.port = socket.remotePort;
    socket.on('data', (c: Buffer) => {
      seen.bytes += c;
      if (seen.bytes.endsWith('world')) socket.end('answered');
    });
    socket.resume();
  }, () => undefined);
  const front = createServer((socket) => {
    socket.once('data', (first: Buffer) => {
      socket.pause();
      handOff(socket, path, first, (err) => socket.destroy(err));
    });
  });
  t.after(() => {
    receiver.close();
    front.close();
    rmSync(dir, { recursive: true, force: true });
  });
  assert.equal(statSync(path).mode & 0o777, 0o600);
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const client = netConnect((front.address() as { port: number }).port, '127.0.0.1');
  client.write('hello ');
  setTimeout(() => client.write('world'), 50);
  let answer = '';
  client.on('data', (c: Buffer) => (answer += c));
  await new Promise((resolve) => client.on('end', resolve));
  assert.equal(answer, 'answered');
  assert.equal(seen.bytes, 'hello world');
  assert.equal(seen.address, '127.0.0.1');
  assert.equal(seen.port, client.localPort);
});

/** The first bytes node's TLS client sends (its ClientHello) for `servername`. */
function clientHello(servername: string | undefined): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let bytes = Buffer.alloc(0);
    const server = createServer((socket) => {
      socket.on('data', (chunk: Buffer) => {
        bytes = Buffer.concat([bytes, chunk]);
        if (sniFromClientHello(bytes).kind === 'more') return;
        socket.destroy();
        server.close();
        resolve(bytes);
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      const client = connect({ host: '127.0.0.1', port, ...(servername ? { servername } : {}), rejectUnauthorized: false });
      client.on('error', () => undefined);
    });
    server.on('error', reject);
  });
}

function agentPid(app: FixtureApp): number {
  return Number(readFileSync(join(app.state, 'agent.pid'), 'utf8'));
}

/** Until the guardian's next agent wrote its pid file (briefly absent while it starts). */
async function restarted(app: FixtureApp, pid: number): Promise<void> {
  for (let i = 0; i < 150; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const now = existsSync(join(app.state, 'agent.pid')) ? Number(readFileSync(join(app.state, 'agent.pid'), 'utf8')) : pid;
    if (now !== pid && now > 0) return;
  }
  throw new Error(`the agent of ${app.dir} was not started again`);
}

function servedCertificate(port: number, servername: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate());
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

function rawTls(port: number, servername: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => socket.write(text));
    let got = '';
    socket.on('data', (c: Buffer) => (got += c));
    socket.on('end', () => resolve(got));
    socket.on('error', reject);
  });
}

function plainGet(port: number, host: string): Promise<{ status: number; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path: '/cart', headers: { host }, agent: false }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, location: res.headers.location });
    })
      .on('error', reject)
      .end();
  });
}

interface TlsLoadReport {
  total: number;
  failed: number;
  failures: Record<string, number>;
  /** When the first and the last request failed (ms since the epoch), to measure a gap. */
  failedFrom?: number;
  failedUntil?: number;
  /** Per name: the bodies seen and how often. */
  bodies: Record<string, Record<string, number>>;
}

/** Per name: two kept-alive clients and one opening a new connection (a new handshake) per request. */
function startTlsLoad(port: number, ca: Buffer, names: string[], opts: { keepAlive?: boolean } = {}): { stop(): Promise<TlsLoadReport> } {
  const report: TlsLoadReport = { total: 0, failed: 0, failures: {}, bodies: {} };
  let running = true;
  const deadline = Date.now() + 120_000;
  const agents: Agent[] = [];
  const worker = async (name: string, agent: Agent | false) => {
    while (running && Date.now() < deadline) {
      report.total++;
      try {
        const answer = await tlsGet(port, ca, agent, '/', name);
        const seen = (report.bodies[name] ??= {});
        if (answer.status === 200) seen[answer.body] = (seen[answer.body] ?? 0) + 1;
        else throw new Error(`HTTP ${answer.status}: ${answer.body.slice(0, 60)}`);
      } catch (err) {
        report.failed++;
        report.failedFrom ??= Date.now();
        report.failedUntil = Date.now();
        const key = `${name}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
        report.failures[key] = (report.failures[key] ?? 0) + 1;
      }
    }
  };
  const workers = names.flatMap((name) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 2, ca });
    agents.push(agent);
    return [...(opts.keepAlive === false ? [] : [worker(name, agent), worker(name, agent)]), worker(name, false)];
  });
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
      for (const agent of agents) agent.destroy();
      return report;
    },
  };
}
