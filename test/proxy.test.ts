import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request, type Dispatcher } from 'undici';
import { quantileMs } from '../src/analysis/metrics.js';
import { LATENCY_BOUNDS_MS } from '../src/proxy/router.js';

import { deadPort, gate, startProxy, startUpstream, type TestUpstream } from './fixtures/proxy-servers.js';
import { startLoggedProxy } from './helpers/logged-proxy.js';

const latencyWindow = (later: number[], earlier: number[]) => later.map((c, i) => c - (earlier[i] ?? 0));
const latencyQuantile = (counts: number[], q: number) => quantileMs(counts, LATENCY_BOUNDS_MS, q);

const client = new Agent({ connections: 32 });
after(() => client.close());

async function get(url: string, init: { method?: Dispatcher.HttpMethod; body?: string; headers?: Record<string, string> } = {}) {
  const res = await request(url, { dispatcher: client, method: init.method ?? 'GET', body: init.body, headers: init.headers });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

test('forwards method, path, query, headers and body; drops hop-by-hop headers both ways', { timeout: 20_000 }, async (t) => {
  const app = await startUpstream('a1', (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      app.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.writeHead(201, { 'x-up': 'yes', 'keep-alive': 'timeout=5', 'proxy-authenticate': 'Basic', 'x-drop-me': '1', connection: 'x-drop-me' });
      res.end(`got ${body}`);
    });
  });
  const proxy = await startProxy();
  t.after(async () => { await proxy.close(); await app.kill(); });
  proxy.router.setTable([{ id: 'r1', weight: 100, upstreams: [app.upstream] }]);

  const res = await new Promise<http.IncomingMessage & { text?: string }>((resolve, reject) => {
    const req = http.request(`${proxy.url}/a/b?x=1&y=two`, {
      method: 'PATCH',
      headers: { 'x-custom': 'kept', 'proxy-authorization': 'secret', 'x-hop': 'gone', connection: 'keep-alive, x-hop', 'x-forwarded-for': '10.0.0.9' },
    }, resolve);
    req.on('error', reject);
    req.end('hello');
  });
  let text = '';
  for await (const chunk of res) text += String(chunk);

  const seen = app.seen[0];
  assert.ok(seen);
  assert.equal(seen.method, 'PATCH');
  assert.equal(seen.url, '/a/b?x=1&y=two');
  assert.equal(seen.body, 'hello');
  assert.equal(seen.headers['x-custom'], 'kept');
  assert.equal(seen.headers['proxy-authorization'], undefined);
  assert.equal(seen.headers['x-hop'], undefined);
  assert.equal(seen.headers.host, `127.0.0.1:${proxy.port}`);
  assert.equal(seen.headers['x-forwarded-for'], '10.0.0.9, 127.0.0.1');
  assert.equal(seen.headers['x-forwarded-proto'], 'http');
  assert.equal(seen.headers['x-forwarded-host'], `127.0.0.1:${proxy.port}`);

  assert.equal(res.statusCode, 201);
  assert.equal(text, 'got hello');
  assert.equal(res.headers['x-up'], 'yes');
  assert.deepEqual(res.headers['set-cookie'], ['a=1', 'b=2']);
  assert.equal(res.headers['proxy-authenticate'], undefined);
  assert.equal(res.headers['x-drop-me'], undefined);
  assert.notEqual(res.headers['keep-alive'], 'timeout=5'); // node:http's own value, not the upstream's
});

test('streams a 5 MB body up and down without buffering it', { timeout: 20_000 }, async (t) => {
  const firstUpload = gate();
  const firstDownload = gate();
  const app = await startUpstream('a1', (req, res) => {
    if (req.url === '/download') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(big.subarray(0, 64 * 1024));
      // Only a proxy that streams lets the client see this chunk while the response is unfinished.
      void firstDownload.promise.then(() => res.end(big.subarray(64 * 1024)));
      return;
    }
    req.once('data', () => firstUpload.open());
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    req.pipe(res);
  });
  const big = randomBytes(5 * 1024 * 1024);
  const proxy = await startProxy();
  t.after(async () => { await proxy.close(); await app.kill(); });
  proxy.router.setTable([{ id: 'r1', weight: 1, upstreams: [app.upstream] }]);

  const echoed = await new Promise<Buffer>((resolve, reject) => {
    const req = http.request(`${proxy.url}/echo`, { method: 'POST' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
    });
    req.on('error', reject);
    req.write(big.subarray(0, 1024 * 1024));
    // The rest is only sent once the upstream got the first bytes: a buffering proxy would hang here.
    void firstUpload.promise.then(() => req.end(big.subarray(1024 * 1024)));
  });
  assert.equal(echoed.length, big.length);
  assert.equal(sha(echoed), sha(big));

  const res = await request(`${proxy.url}/download`, { dispatcher: client });
  const chunks: Buffer[] = [];
  for await (const chunk of res.body) {
    chunks.push(chunk as Buffer);
    firstDownload.open();
  }
  assert.equal(sha(Buffer.concat(chunks)), sha(big));
});

test('weights: 100/0 sends everything to one release, 50/50 splits roughly evenly', { timeout: 20_000 }, async (t) => {
  const a = await startUpstream('a1');
  const b = await startUpstream('b1');
  const proxy = await startProxy();
  t.after(async () => { await proxy.close(); await a.kill(); await b.kill(); });

  proxy.router.setTable([
    { id: 'blue', weight: 100, upstreams: [a.upstream] },
    { id: 'green', weight: 0, upstreams: [b.upstream] },
  ]);
  for (let i = 0; i < 50; i++) assert.equal((await get(`${proxy.url}/`)).body, 'a1');
  assert.equal(b.seen.length, 0);

  proxy.router.setTable([
    { id: 'blue', weight: 50, upstreams: [a.upstream] },
    { id: 'green', weight: 50, upstreams: [b.upstream] },
  ]);
  const served = { a1: 0, b1: 0 } as Record<string, number>;
  await Promise.all(Array.from({ length: 10 }, async () => {
    for (let i = 0; i < 100; i++) {
      const { body } = await get(`${proxy.url}/`);
      served[body] = (served[body] ?? 0) + 1;
    }
  }));
  assert.equal((served.a1 ?? 0) + (served.b1 ?? 0), 1000);
  assert.ok((served.a1 ?? 0) >= 350 && (served.a1 ?? 0) <= 650, `blue got ${served.a1} of 1000`);
  assert.equal(proxy.router.counters('green').requests, served.b1);
});

test('a table swap lets an in-flight request finish on its upstream; waitDrained tracks it', { timeout: 20_000 }, async (t) => {
  const arrived = gate();
  const release = gate();
  const slow = await startUpstream('old1', (_req, res) => {
    arrived.open();
    void release.promise.then(() => res.end('old answer'));
  });
  const fresh = await startUpstream('new1');
  const proxy = await startProxy();
  t.after(async () => { await proxy.close(); await slow.kill(); await fresh.kill(); });
  const { router } = proxy;

  router.setTable([{ id: 'old', weight: 100, upstreams: [slow.upstream] }]);
  const inFlight = get(`${proxy.url}/slow`);
  await arrived.promise;
  assert.equal(router.inFlight('old1'), 1);

  router.setTable([{ id: 'new', weight: 100, upstreams: [fresh.upstream] }, { id: 'old', weight: 0, upstreams: [slow.upstream] }]);
  assert.equal((await get(`${proxy.url}/`)).body, 'new1');
  assert.equal(await router.waitDrained(['old1'], 50), false);

  const drained = router.waitDrained(['old1', 'new1'], 5_000);
  release.open();
  const finished = await inFlight;
  assert.deepEqual([finished.status, finished.body], [200, 'old answer']);
  assert.equal(await drained, true);
  assert.equal(router.inFlight('old1'), 0);
  assert.equal(await router.waitDrained(['never-seen'], 10), true);

  router.setTable([{ id: 'new', weight: 100, upstreams: [fresh.upstream] }]);
  await router.closeUpstream('old1');
  assert.equal((await get(`${proxy.url}/`)).body, 'new1');
});

test('a killed upstream: requests are retried on the other, a POST too since a refused connection never carried it', { timeout: 20_000 }, async (t) => {
  const dying = await startUpstream('i1');
  const healthy = await startUpstream('i2');
  const proxy = await startProxy();
  t.after(async () => { await proxy.close(); await healthy.kill(); });
  proxy.router.setTable([{ id: 'r1', weight: 1, upstreams: [dying.upstream, healthy.upstream] }]);
  for (let i = 0; i < 4; i++) assert.equal((await get(`${proxy.url}/`)).status, 200); // warm both pools

  await dying.kill();
  const gets = await Promise.all(Array.from({ length: 20 }, () => get(`${proxy.url}/`)));
  assert.deepEqual(gets.map((r) => `${r.status} ${r.body}`), Array(20).fill('200 i2'));
  const posts = [await get(`${proxy.url}/`, { method: 'POST', body: 'order' }), await get(`${proxy.url}/`, { method: 'POST', body: 'order' })];
  assert.deepEqual(posts.map((r) => `${r.status} ${r.body}`), ['200 i2', '200 i2']);
  assert.deepEqual(healthy.seen.filter((s) => s.method === 'POST').map((s) => s.body), ['order', 'order']);

  const counters = proxy.router.counters('r1');
  assert.ok(counters.connectionErrors >= 11, `connectionErrors ${counters.connectionErrors}`);
  assert.equal(proxy.router.inFlight('i1') + proxy.router.inFlight('i2'), 0);
});

test('an instance that drops requests it read: a GET is retried on the other, a POST gets a 502 naming it in the agent log only', { timeout: 20_000 }, async (t) => {
  const dropping = await startUpstream('d1', (req) => req.socket.destroy());
  const healthy = await startUpstream('h1');
  const proxy = await startLoggedProxy();
  t.after(async () => { await proxy.close(); await dropping.kill(); await healthy.kill(); });
  proxy.router.setTable([{ id: 'r1', weight: 1, upstreams: [dropping.upstream, healthy.upstream] }]);

  const gets = [await get(`${proxy.url}/`), await get(`${proxy.url}/`)];
  assert.deepEqual(gets.map((r) => `${r.status} ${r.body}`), ['200 h1', '200 h1']);
  // Round robin alternates, so one of two consecutive POSTs goes to the dropping instance.
  const posts = [await get(`${proxy.url}/`, { method: 'POST', body: 'order' }), await get(`${proxy.url}/`, { method: 'POST', body: 'order' })];
  const failed = posts.find((r) => r.status === 502);
  assert.ok(failed, `statuses ${posts.map((r) => r.status).join(',')}`);
  assert.equal(failed.body, 'bad gateway: the app could not answer this request\n');
  assert.doesNotMatch(JSON.stringify(failed), new RegExp(`d1|${dropping.upstream.port}`), 'neither the instance nor its port');
  assert.equal(failed.headers['x-ccom'], 'upstream-error');
  assert.deepEqual(proxy.lines, [`proxy: answered 502 to POST /: upstream d1 at 127.0.0.1:${dropping.upstream.port}: the instance closed the connection before answering [CCOM_UPSTREAM_CLOSED]`]);
  assert.ok(posts.some((r) => r.status === 200));
  assert.equal(healthy.seen.filter((s) => s.method === 'POST').length, 1);
  assert.equal(proxy.router.inFlight('d1') + proxy.router.inFlight('h1'), 0);
});

test('a PUT whose body was not sent yet is retried on another release when its own has no other instance', { timeout: 20_000 }, async (t) => {
  const healthy = await startUpstream('g1');
  const proxy = await startProxy();
  t.after(async () => { await proxy.close(); await healthy.kill(); });
  const dead = { id: 'b1', host: '127.0.0.1', port: await deadPort() };
  proxy.router.setTable([{ id: 'blue', weight: 1, upstreams: [dead] }, { id: 'green', weight: 1, upstreams: [healthy.upstream] }]);

  const results = await Promise.all([1, 2, 3, 4].map((n) => get(`${proxy.url}/item/${n}`, { method: 'PUT', body: `v${n}` })));
  assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200]);
  assert.deepEqual(healthy.seen.map((s) => s.body).sort(), ['v1', 'v2', 'v3', 'v4']);
  assert.equal(proxy.router.counters('blue').connectionErrors, 2);
});

test('preview reaches a weight-0 release with the path rewritten; unknown release is 404', { timeout: 20_000 }, async (t) => {
  const live = await startUpstream('live1');
  const next = await startUpstream('next1');
  const proxy = await startProxy((router) => http.createServer((req, res) => {
    const id = req.headers['x-release'] as string;
    router.handlePreview(id, '/healthz', req, res);
  }));
  t.after(async () => { await proxy.close(); await live.kill(); await next.kill(); });
  proxy.router.setTable([{ id: 'live', weight: 100, upstreams: [live.upstream] }, { id: 'next', weight: 0, upstreams: [next.upstream] }]);

  const res = await get(`${proxy.url}/__preview/whatever?deep=1`, { headers: { 'x-release': 'next' } });
  assert.equal(res.body, 'next1');
  assert.equal(next.seen[0]?.url, '/healthz?deep=1');
  const unknown = await get(`${proxy.url}/`, { headers: { 'x-release': 'nope' } });
  assert.equal(unknown.status, 404);
  assert.match(unknown.body, /nope/);
});

/** Sends `text` on a raw connection and collects what comes back until `until` matches or the end. */
function rawExchange(port: number, text: string, until?: RegExp): Promise<{ data: string; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let data = '';
    socket.on('data', (c: Buffer) => {
      data += c.toString('latin1');
      if (until?.test(data)) resolve({ data, socket });
    });
    socket.on('end', () => resolve({ data, socket }));
    socket.on('error', reject);
  });
}

test('no live release answers 503, and an upgrade request is then closed', { timeout: 20_000 }, async (t) => {
  const proxy = await startProxy();
  t.after(() => proxy.close());
  let res = await get(`${proxy.url}/`);
  assert.deepEqual([res.status, res.body, res.headers['x-ccom']], [503, 'no live release\n', 'no-upstream']);
  proxy.router.setTable([{ id: 'empty', weight: 100, upstreams: [] }]);
  res = await get(`${proxy.url}/`);
  assert.equal(res.status, 503);
  const { data } = await rawExchange(proxy.port, 'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
  assert.match(data, /^HTTP\/1\.1 503 [^]*connection: close\r\n/);
});

test('a WebSocket upgrade is tunnelled both ways and counts as in flight until it closes', { timeout: 20_000 }, async (t) => {
  const app = await startUpstream('w1');
  app.server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, early: Buffer) => {
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${req.headers.upgrade}\r\nConnection: Upgrade\r\nX-Seen-For: ${req.headers['x-forwarded-for']}\r\n\r\n`);
    if (early.length > 0) socket.write(`echo:${early.toString()}`);
    socket.on('data', (chunk: Buffer) => socket.write(`echo:${chunk.toString()}`));
    socket.on('end', () => socket.end());
  });
  const proxy = await startProxy();
  t.after(async () => { await proxy.close(); await app.kill(); });
  proxy.router.setTable([{ id: 'r1', weight: 1, upstreams: [app.upstream] }]);

  const { data, socket } = await rawExchange(proxy.port, 'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', /\r\n\r\n/);
  assert.match(data, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  assert.match(data, /\r\nconnection: upgrade\r\nupgrade: websocket\r\n/i);
  assert.match(data, /X-Seen-For: 127\.0\.0\.1/);
  const echoed = new Promise<string>((resolve) => socket.once('data', (c: Buffer) => resolve(c.toString())));
  socket.write('ping');
  assert.equal(await echoed, 'echo:ping');
  assert.equal(proxy.router.inFlight('w1'), 1);
  assert.equal(await proxy.router.waitDrained(['w1'], 100), false);

  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.end();
  await closed;
  assert.equal(await proxy.router.waitDrained(['w1'], 2_000), true);
  assert.deepEqual([proxy.router.counters('r1').requests, proxy.router.counters('r1').status2xx], [1, 1]); // a 101 counts as a success
  assert.equal((await get(`${proxy.url}/`)).body, 'w1');
});

test('counters count requests and upstream 5xx per release', { timeout: 20_000 }, async (t) => {
  const app = await startUpstream('a1');
  const proxy = await startProxy();
  t.after(async () => { await proxy.close(); await app.kill(); });
  proxy.router.setTable([{ id: 'r1', weight: 1, upstreams: [app.upstream] }]);
  const statuses = [];
  for (const path of ['/status/500', '/status/503', '/', '/status/404', '/status/502']) statuses.push((await get(proxy.url + path)).status);
  assert.deepEqual(statuses, [500, 503, 200, 404, 502]);
  assert.deepEqual(proxy.router.counters('r1'), { requests: 5, status2xx: 1, status3xx: 0, status4xx: 1, status5xx: 3, connectionErrors: 0 });
  assert.deepEqual(proxy.router.counters('unknown'), { requests: 0, status2xx: 0, status3xx: 0, status4xx: 0, status5xx: 0, connectionErrors: 0 });
});

test('latency: the histogram records time to the response head per release', { timeout: 20_000 }, async (t) => {
  const app = await startUpstream('a1', (req, res) => {
    if (req.url === '/fast') return void res.end('fast');
    setTimeout(() => res.end('slow'), 120);
  });
  const proxy = await startProxy();
  t.after(async () => { await proxy.close(); await app.kill(); });
  proxy.router.setTable([{ id: 'r1', weight: 1, upstreams: [app.upstream] }]);
  await get(`${proxy.url}/fast`);
  const before = proxy.router.latency('r1');
  for (let i = 0; i < 3; i++) await get(`${proxy.url}/slow`);
  const window = latencyWindow(proxy.router.latency('r1'), before);
  assert.equal(window.reduce((a, b) => a + b, 0), 3);
  assert.ok((latencyQuantile(window, 0.5) ?? 0) >= 120, `p50 ${latencyQuantile(window, 0.5)}`);
  assert.equal(latencyQuantile(proxy.router.latency('unknown'), 0.99), undefined);
});

test('an upstream dying mid-response cuts the client connection; HEAD passes through', { timeout: 20_000 }, async (t) => {
  const app = await startUpstream('a1', (req, res) => {
    if (req.method === 'HEAD') return void res.writeHead(200, { 'content-length': '42' }).end();
    res.writeHead(200, { 'content-length': '1000' });
    res.write('partial');
    setTimeout(() => req.socket.destroy(), 20);
  });
  const proxy = await startProxy();
  t.after(async () => { await proxy.close(); await app.kill(); });
  proxy.router.setTable([{ id: 'r1', weight: 1, upstreams: [app.upstream] }]);

  const head = await get(`${proxy.url}/`, { method: 'HEAD' });
  assert.deepEqual([head.status, head.headers['content-length'], head.body], [200, '42', '']);
  const res = await request(`${proxy.url}/`, { dispatcher: client });
  assert.equal(res.statusCode, 200);
  await assert.rejects(res.body.text());
  assert.equal(proxy.router.counters('r1').connectionErrors, 1);
  assert.equal(await proxy.router.waitDrained(['a1'], 2_000), true);
});

test('a client that aborts releases the upstream request and leaves the proxy working', { timeout: 20_000 }, async (t) => {
  const upstreamClosed = gate();
  const arrived = gate();
  const app = await startUpstream('a1', (req, res) => {
    if (req.url !== '/hang') return void res.end('fine');
    arrived.open();
    res.on('close', () => upstreamClosed.open());
  });
  const proxy = await startProxy();
  t.after(async () => { await proxy.close(); await app.kill(); });
  proxy.router.setTable([{ id: 'r1', weight: 1, upstreams: [app.upstream] }]);

  const controller = new AbortController();
  const hanging = request(`${proxy.url}/hang`, { dispatcher: client, signal: controller.signal });
  await arrived.promise;
  controller.abort();
  await assert.rejects(hanging);
  await upstreamClosed.promise;
  assert.equal(await proxy.router.waitDrained(['a1'], 2_000), true);
  assert.equal((await get(`${proxy.url}/`)).body, 'fine');
});

test('sustained load: 2,000 keep-alive requests while the table swaps every 50 ms all get 200', { timeout: 20_000 }, async (t) => {
  const apps: TestUpstream[] = await Promise.all(['b1', 'b2', 'g1', 'g2'].map((id) => startUpstream(id)));
  const proxy = await startProxy();
  t.after(async () => { await proxy.close(); for (const app of apps) await app.kill(); });
  const upstreams = apps.map((a) => a.upstream);
  const blue = { id: 'blue', weight: 100, upstreams: upstreams.slice(0, 2) };
  const green = { id: 'green', weight: 100, upstreams: upstreams.slice(2) };
  let flip = false;
  proxy.router.setTable([blue]);
  const swapper = setInterval(() => {
    flip = !flip;
    proxy.router.setTable(flip ? [{ ...green }, { ...blue, weight: 0 }] : [{ ...blue }, { ...green, weight: 0 }]);
  }, 50);
  t.after(() => clearInterval(swapper));

  const loadAgent = new Agent({ connections: 20, pipelining: 1 });
  t.after(() => loadAgent.close());
  const statuses = new Map<number, number>();
  const byUpstream = new Map<string, number>();
  let next = 0;
  await Promise.all(Array.from({ length: 20 }, async () => {
    while (next++ < 2_000) {
      const res = await request(`${proxy.url}/`, { dispatcher: loadAgent });
      const body = await res.body.text();
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      byUpstream.set(body, (byUpstream.get(body) ?? 0) + 1);
    }
  }));
  clearInterval(swapper);
  assert.deepEqual([...statuses], [[200, 2_000]]);
  assert.ok((byUpstream.get('b1') ?? 0) > 0 && (byUpstream.get('g1') ?? 0) > 0, JSON.stringify([...byUpstream]));
});
