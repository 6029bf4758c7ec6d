import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProxyServer, Router } from '../src/proxy/router.js';
import { listen, startProxy, startUpstream, stop, type TestProxy } from './fixtures/proxy-servers.js';
import { startLoggedProxy } from './helpers/logged-proxy.js';
import { RawClient } from './helpers/raw-client.js';

/**
 * The proxy's own HTTP/1.1 engine over raw sockets: what a strict parser refuses, and the parts
 * of the protocol ordinary clients rarely exercise (pipelining, 1.0, 100-continue, chunked
 * trailers, close-delimited bodies, stale keep-alives, timeouts).
 */

const responses = (data: string) => data.match(/HTTP\/1\.[01] \d{3}(?= )/g) ?? [];

async function proxyTo(t: { after(fn: () => Promise<void> | void): void }, handler?: Parameters<typeof startUpstream>[1]): Promise<{ proxy: TestProxy; app: Awaited<ReturnType<typeof startUpstream>> }> {
  const app = await startUpstream('a1', handler);
  const proxy = await startProxy();
  t.after(async () => { await proxy.close(); await app.kill(); });
  proxy.router.setTable([{ id: 'r1', weight: 1, upstreams: [app.upstream] }]);
  return { proxy, app };
}

const MALFORMED: Array<[string, string, number]> = [
  ['Content-Length with Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ['two different Content-Lengths', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', 400],
  ['a Content-Length that is not a number', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc', 400],
  ['a Transfer-Encoding other than chunked', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n', 501],
  ['chunked not last', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', 501],
  ['obs-fold', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n', 400],
  ['a space before the colon', 'GET / HTTP/1.1\r\nHost : x\r\n\r\n', 400],
  ['a bare LF', 'GET / HTTP/1.1\nHost: x\r\n\r\n', 400],
  ['a control character in a value', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n', 400],
  ['a non-ASCII request target', 'GET /caf\xe9 HTTP/1.1\r\nHost: x\r\n\r\n', 400],
  ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\nAccept: */*\r\n\r\n', 400],
  ['two Host headers', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
  ['HTTP/2.0 in a request line', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', 505],
  ['a malformed request line', 'GET  / HTTP/1.1\r\nHost: x\r\n\r\n', 400],
  ['a head over 16 KB', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`, 431],
  ['a malformed chunk size', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n', 400],
  ['a chunk size "3 2"', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3 2\r\nabc\r\n0\r\n\r\n', 400],
  ['a chunk size with trailing whitespace and no extension', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n', 400],
  ['a control character in a chunk extension', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;a\x01\r\nabc\r\n0\r\n\r\n', 400],
  ['Transfer-Encoding: chunked, chunked', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n', 400],
  ['chunked twice, in two headers', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n', 400],
  ['Transfer-Encoding in an HTTP/1.0 request', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ['a request coding before chunked (it would be lost upstream)', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', 501],
];

test('heads a lenient parser would misread are refused with a status, closed, and never forwarded', { timeout: 30_000 }, async (t) => {
  const { proxy, app } = await proxyTo(t);
  for (const [what, text, status] of MALFORMED) {
    const client = new RawClient(proxy.port).send(text);
    await client.closed();
    assert.match(client.data, new RegExp(`^HTTP/1\\.1 ${status} `), `${what}: ${JSON.stringify(client.data.slice(0, 80))}`);
    assert.match(client.data, /\r\nconnection: close\r\n/, what);
    assert.match(client.data, /\r\nx-ccom: bad-request\r\n/, `${what}: refused by the proxy itself`);
  }
  assert.deepEqual(app.seen, [], 'the app saw none of them');
  const client = new RawClient(proxy.port).send('GET /fine HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(await client.until(/\r\n0\r\n\r\n$/), /^HTTP\/1\.1 200 OK\r\n/);
  client.close();
});

test('chunk sizes with leading zeros (valid per RFC 9112) are accepted, however many', { timeout: 20_000 }, async (t) => {
  const { proxy, app } = await proxyTo(t);
  const client = new RawClient(proxy.port).send(
    'POST /zeros HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0003\r\nabc\r\n00000000000000000002;ext=1\r\nde\r\n00000000000000000000\r\n\r\n',
  );
  assert.match(await client.until(/\r\n0\r\n\r\n$/), /^HTTP\/1\.1 200 OK\r\n/);
  client.close();
  assert.equal(app.seen[0]?.body, 'abcde');
});

test('CONNECT on the public port is refused by the proxy itself: never forwarded, never counted against a release', { timeout: 20_000 }, async (t) => {
  const { proxy, app } = await proxyTo(t);
  let tunnels = 0;
  app.server.on('connect', (_req, socket: net.Socket) => {
    tunnels++;
    socket.destroy();
  });
  for (let i = 0; i < 40; i++) {
    const client = new RawClient(proxy.port).send('CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\nSSH-2.0-x\r\n');
    await client.closed();
    assert.match(client.data, /^HTTP\/1\.1 405 Method Not Allowed\r\n/);
    assert.match(client.data, /\r\nx-ccom: bad-request\r\nallow: GET, [^\r]*\r\nconnection: close\r\n\r\nCONNECT is not served here/);
    assert.doesNotMatch(client.data, /127\.0\.0\.1:\d+(?!22)/, 'no instance address in the answer');
  }
  assert.equal(tunnels, 0, 'the app never saw a CONNECT');
  assert.deepEqual(proxy.router.counters('r1'), { requests: 0, status2xx: 0, status3xx: 0, status4xx: 0, status5xx: 0, connectionErrors: 0 });
});

test('pipelined requests on one connection are answered in order, each reaching the app', { timeout: 20_000 }, async (t) => {
  const { proxy } = await proxyTo(t, (req, res) => {
    // The first answers last: order must come from the proxy, not from timing.
    setTimeout(() => res.end(`path ${req.url}\n`), req.url === '/one' ? 100 : 0);
  });
  const client = new RawClient(proxy.port).send(
    'GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\n\r\nGET /three HTTP/1.1\r\nHost: x\r\n\r\n',
  );
  const data = await client.until((d) => responses(d).length === 3 && d.endsWith('path /three\n'));
  assert.deepEqual(data.match(/path \/\w+/g), ['path /one', 'path /two', 'path /three']);
  client.close();
});

test('HTTP/1.0: closed after the response unless keep-alive was asked, and then told it stays open', { timeout: 20_000 }, async (t) => {
  // node:http never keeps a 1.0 connection open, so the app here is a raw server that does.
  const raw = net.createServer((socket) => socket.on('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\na1')));
  const port = await listen(raw);
  const proxy = await startProxy();
  t.after(async () => { await proxy.close(); raw.close(); });
  proxy.router.setTable([{ id: 'r1', weight: 1, upstreams: [{ id: 'u1', host: '127.0.0.1', port }] }]);
  const plain = new RawClient(proxy.port).send('GET / HTTP/1.0\r\n\r\n');
  await plain.closed();
  assert.match(plain.data, /^HTTP\/1\.1 200 OK\r\n[^]*connection: close\r\n\r\na1$/);

  const kept = new RawClient(proxy.port).send('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  const first = await kept.until(/a1$/);
  assert.match(first, /\r\nconnection: keep-alive\r\n/i);
  assert.equal(kept.ended, false);
  kept.send('GET /again HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  await kept.until((d) => responses(d).length === 2 && d.endsWith('a1'));
  kept.close();
});

test('HTTP/1.0 clients of a node:http app: kept alive when it sends a length, chunked answers decoded and closed', { timeout: 20_000 }, async (t) => {
  const { proxy, app } = await proxyTo(t, (req, res) => {
    if (req.url === '/chunked') {
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-t' });
      res.write('hello ');
      res.addTrailers({ 'x-t': '1' });
      return void res.end('world');
    }
    res.end(`len ${req.url}`);
  });
  const kept = new RawClient(proxy.port).send('GET /one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  assert.match(await kept.until(/len \/one$/), /\r\ncontent-length: 8\r\nconnection: keep-alive\r\n/i);
  kept.send('GET /two HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  await kept.until(/len \/two$/);
  assert.equal(kept.ended, false, 'one connection served both');
  kept.close();

  const chunked = new RawClient(proxy.port).send('GET /chunked HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  await chunked.closed();
  const [head, body] = chunked.data.split('\r\n\r\n');
  assert.equal(body, 'hello world', 'the chunk framing is gone');
  assert.doesNotMatch(head!, /transfer-encoding|trailer/i);
  assert.match(head!, /\r\nconnection: close$/);
  assert.equal(app.seen.length, 0, 'custom handler');
});

test('Expect: 100-continue gets the app\'s 100 Continue before the body is sent', { timeout: 20_000 }, async (t) => {
  const { proxy, app } = await proxyTo(t);
  const client = new RawClient(proxy.port).send('PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
  await client.until(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
  client.send('hello');
  await client.until(/HTTP\/1\.1 200 OK[^]*\r\n0\r\n\r\n$/);
  assert.equal(app.seen[0]?.body, 'hello');
  client.close();
});

test('chunked bodies pass through both ways, trailers included, and the connection is reused', { timeout: 20_000 }, async (t) => {
  const { proxy } = await proxyTo(t, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-sum' });
      for (const c of chunks) res.write(c);
      res.addTrailers({ 'x-sum': String(Buffer.concat(chunks).length), 'x-req-trailer': String(req.trailers['x-check']) });
      res.end();
    });
  });
  const client = new RawClient(proxy.port).send(
    'POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Check: ok\r\n\r\n',
  );
  const data = await client.until(/\r\n0\r\n[^]*\r\n\r\n$/);
  assert.match(data, /transfer-encoding: chunked\r\n/i);
  assert.match(data, /\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n/);
  assert.match(data, /x-sum: 11\r\n/i);
  assert.match(data, /x-req-trailer: ok\r\n/i);
  client.send('GET /next HTTP/1.1\r\nHost: x\r\n\r\n');
  await client.until((d) => responses(d).length === 2);
  assert.equal(client.ended, false);
  client.close();
});

test('a body delimited by the close reaches the client whole, with connection: close', { timeout: 20_000 }, async (t) => {
  const raw = net.createServer((socket) => {
    socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the very end'));
  });
  const port = await listen(raw);
  const proxy = await startProxy();
  t.after(async () => { await proxy.close(); raw.close(); });
  proxy.router.setTable([{ id: 'r1', weight: 1, upstreams: [{ id: 'u1', host: '127.0.0.1', port }] }]);
  const client = new RawClient(proxy.port).send('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await client.closed();
  assert.match(client.data, /^HTTP\/1\.1 200 OK\r\n[^]*connection: close\r\n\r\nuntil the very end$/);
});

test('a kept-alive connection the app dropped is replaced without failing the GET or counting an error', { timeout: 20_000 }, async (t) => {
  let served = 0;
  // Announces a long keep-alive, then drops every connection when its second request arrives.
  const raw = net.createServer((socket) => {
    let requests = 0;
    socket.on('data', () => {
      if (++requests === 2) return void socket.destroy();
      served++;
      socket.write(`HTTP/1.1 200 OK\r\nKeep-Alive: timeout=60\r\nContent-Length: 2\r\n\r\nok`);
    });
  });
  const port = await listen(raw);
  const proxy = await startProxy();
  t.after(async () => { await proxy.close(); raw.close(); });
  proxy.router.setTable([{ id: 'r1', weight: 1, upstreams: [{ id: 'u1', host: '127.0.0.1', port }] }]);
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${proxy.url}/n${i}`);
    assert.equal(`${res.status} ${await res.text()}`, '200 ok');
  }
  assert.equal(served, 3);
  assert.deepEqual([proxy.router.counters('r1').requests, proxy.router.counters('r1').connectionErrors], [3, 0]);
});

test('an app that answers with something other than HTTP: the client gets a 502 naming nothing behind the proxy, the agent log says why', { timeout: 20_000 }, async (t) => {
  const raw = net.createServer((socket) => socket.once('data', () => socket.end('SSH-2.0-OpenSSH_9.2\r\n\r\n')));
  const port = await listen(raw);
  const proxy = await startLoggedProxy();
  t.after(async () => { await proxy.close(); raw.close(); });
  proxy.router.setTable([{ id: 'r1', weight: 1, upstreams: [{ id: 'u1', host: '127.0.0.1', port }] }]);
  const res = await fetch(`${proxy.url}/orders?token=secret`);
  assert.equal(res.status, 502);
  const body = await res.text();
  assert.equal(body, 'bad gateway: the app could not answer this request\n');
  assert.equal(res.headers.get('x-ccom'), 'upstream-error');
  assert.equal(proxy.lines.length, 1, proxy.lines.join('\n'));
  assert.match(proxy.lines[0]!, new RegExp(`^proxy: answered 502 to GET /orders: upstream u1 at 127\\.0\\.0\\.1:${port}: the instance sent a malformed response \\(malformed status line: "SSH-2\\.0`));
  assert.doesNotMatch(proxy.lines[0]!, /secret/, 'no query string in the log');
  assert.equal(proxy.router.inFlight('u1'), 0);
});

test('a head that trickles in too slowly gets 408, an idle keep-alive is closed', { timeout: 20_000 }, async (t) => {
  const router = new Router();
  const server = createProxyServer(router, { headTimeoutMs: 500, keepAliveTimeoutMs: 500 });
  const port = await listen(server);
  t.after(async () => { await stop(server); await router.close(); });
  const slow = new RawClient(port).send('GET / HTTP/1.1\r\n');
  const trickle = setInterval(() => slow.send('X: 1\r\n'), 200);
  await slow.closed(4_000);
  clearInterval(trickle);
  assert.match(slow.data, /^HTTP\/1\.1 408 /);

  const idle = new RawClient(port);
  await idle.closed(4_000);
  assert.equal(idle.data, '');
});

test('the proxy answers HEAD, 204 and 304 without a body and keeps the connection', { timeout: 20_000 }, async (t) => {
  const { proxy } = await proxyTo(t, (req, res) => {
    if (req.url === '/204') return void res.writeHead(204).end();
    if (req.url === '/304') return void res.writeHead(304, { etag: '"x"' }).end();
    res.writeHead(200, { 'content-length': '5' }).end(req.method === 'HEAD' ? undefined : 'hello');
  });
  const client = new RawClient(proxy.port).send('HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /204 HTTP/1.1\r\nHost: x\r\n\r\nGET /304 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n');
  const data = await client.until((d) => responses(d).length === 4 && d.endsWith('hello'));
  assert.deepEqual(responses(data).map((r) => r.slice(-3)), ['200', '204', '304', '200']);
  assert.equal(data.split('hello').length, 2, 'only the GET carried a body');
  client.close();
});

test('a client on node:http sees the same answers as with a plain server (keep-alive agent, 200 requests)', { timeout: 20_000 }, async (t) => {
  const { proxy } = await proxyTo(t);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  t.after(() => agent.destroy());
  const one = () => new Promise<string>((resolve, reject) => {
    http.get(`${proxy.url}/x`, { agent }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(`${res.statusCode} ${body}`));
    }).on('error', reject);
  });
  const results = await Promise.all(Array.from({ length: 200 }, one));
  assert.deepEqual(new Set(results), new Set(['200 a1']));
});

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
/** Request smuggling attempts: each hides SMUGGLED where a parser that frames the body differently from the app would see a second request. */
const DESYNC: Array<[string, string, 'refused' | string[]]> = [
  ['CL.TE', `POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, 'refused'],
  ['TE.CL', `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n${SMUGGLED}`, 'refused'],
  ['TE with a space before the colon', `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, 'refused'],
  ['TE "xchunked"', `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, 'refused'],
  ['TE "chunked" + NBSP', `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\xa0\r\n\r\n0\r\n\r\n${SMUGGLED}`, 'refused'],
  ['TE folded onto a second line', `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, 'refused'],
  ['two TE headers, the last not chunked', `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n${SMUGGLED}`, 'refused'],
  ['Content-Length 0 and 44', `POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`, 'refused'],
  ['a chunk size that overflows', `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nx\r\n0\r\n\r\n${SMUGGLED}`, 'refused'],
  ['chunks ended by bare LFs', `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\n0\n\n${SMUGGLED}`, 'refused'],
  ['a GET whose body looks like a request', `GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`, ['/a']],
  ['a chunked body that looks like a request', `POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`, ['/a']],
];

test('request smuggling: the app frames every request exactly as the proxy did, or never sees it', { timeout: 30_000 }, async (t) => {
  let seen: string[] = [];
  const { proxy } = await proxyTo(t, (req, res) => {
    seen.push(req.url ?? '');
    req.resume();
    req.on('end', () => res.end(`seen ${req.url}\n`));
  });
  for (const [what, payload, expected] of DESYNC) {
    seen = [];
    const client = new RawClient(proxy.port).send(`${payload}GET /after HTTP/1.1\r\nHost: x\r\n\r\n`);
    if (expected === 'refused') {
      await client.closed();
      assert.match(client.data, /^HTTP\/1\.1 (400|501) [^]*x-ccom: bad-request\r\n/, what);
      assert.deepEqual(seen, [], `${what}: the app saw nothing`);
    } else {
      const data = await client.until((d) => d.includes('seen /after'));
      assert.deepEqual(data.match(/seen \/\w+/g), [...expected, '/after'].map((p) => `seen ${p}`), what);
      assert.deepEqual(seen, [...expected, '/after'], `${what}: the app saw the same requests`);
      client.close();
    }
  }
});

test('x-forwarded-proto and -host are kept from a TLS terminator on this machine, replaced from anywhere else', { timeout: 20_000 }, async (t) => {
  const external = Object.values(networkInterfaces()).flat().find((i) => i !== undefined && !i.internal && i.family === 'IPv4')?.address;
  const app = await startUpstream('a1');
  const router = new Router();
  const server = createProxyServer(router);
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  const port = (server.address() as AddressInfo).port;
  t.after(async () => { await stop(server); await router.close(); await app.kill(); });
  router.setTable([{ id: 'r1', weight: 1, upstreams: [app.upstream] }]);
  const ask = (host: string) => new RawClient(port, host).send('GET / HTTP/1.1\r\nHost: internal:8080\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: shop.example\r\nConnection: close\r\n\r\n').closed();

  await ask('127.0.0.1');
  assert.deepEqual([app.seen[0]?.headers['x-forwarded-proto'], app.seen[0]?.headers['x-forwarded-host']], ['https', 'shop.example']);
  if (external === undefined) return t.skip('no non-loopback IPv4 address to connect from');
  await ask(external);
  assert.deepEqual([app.seen[1]?.headers['x-forwarded-proto'], app.seen[1]?.headers['x-forwarded-host']], ['http', 'internal:8080'], 'forged from outside');
});
