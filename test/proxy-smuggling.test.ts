import net from 'node:net';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listen, startProxy, type TestProxy } from './fixtures/proxy-servers.js';
import { RawClient } from './helpers/raw-client.js';
import { startRecordingUpstream, type RecordingUpstream } from './helpers/recording-upstream.js';

/**
 * Request hijacking through `Connection`: a header the Connection header names is dropped on
 * the way upstream, so a client that names its own framing (or routing) header could make the
 * app frame the body differently from the proxy and leave a half request on a pooled connection
 * for the next client's request to complete. Real proxy, real node:http app, and a tap that
 * records every byte the app received.
 */

/** A half request: the next bytes on the connection would become its last header's value. */
const HALF = 'GET /echo?x HTTP/1.1\r\nHost: attacker\r\nX-Swallow: ';
const VICTIM = 'GET /victim HTTP/1.1\r\nHost: shop\r\nCookie: session=victim-secret\r\n\r\n';

async function proxyToRecorder(t: { after(fn: () => Promise<void>): void }): Promise<{ proxy: TestProxy; app: RecordingUpstream }> {
  const app = await startRecordingUpstream('a1');
  const proxy = await startProxy();
  t.after(async () => { await proxy.close(); await app.close(); });
  proxy.router.setTable([{ id: 'r1', weight: 1, upstreams: [app.upstream] }]);
  return { proxy, app };
}

/** A victim on a fresh client connection gets its own answer, and its cookie went nowhere else. */
async function assertVictimServed(proxy: TestProxy, app: RecordingUpstream, what: string): Promise<void> {
  const victim = new RawClient(proxy.port).send(VICTIM);
  const data = await victim.until(/\r\n\r\n[^]*cookie=/, 5_000).catch((err: Error) => err.message);
  victim.close();
  assert.match(data, /^HTTP\/1\.1 200 [^]*\r\n\r\n(?:[0-9a-f]+\r\n)?GET \/victim cookie=session=victim-secret/, `${what}: the victim got its own answer`);
  const elsewhere = app.requests.filter((r) => r.url !== '/victim' && JSON.stringify(r).includes('victim-secret'));
  assert.deepEqual(elsewhere, [], `${what}: the victim's cookie reached no other request`);
  assert.equal(app.requests.at(-1)?.url, '/victim', `${what}: the app served the victim's own request`);
  assert.equal(app.requests.some((r) => r.url.startsWith('/echo')), false, `${what}: the smuggled request never ran`);
}

/** The attack requests, each with `Connection` naming a header the proxy frames or routes by. */
function attacks(): Array<[string, string]> {
  const chunkedHalf = `${HALF.length.toString(16)}\r\n${HALF}\r\n0\r\n\r\n`;
  const post = (connection: string, framing = `Content-Length: ${HALF.length}`, body = HALF, extra = '') =>
    `POST /upload HTTP/1.1\r\nHost: shop\r\n${connection}\r\n${framing}\r\n${extra}\r\n${body}`;
  const out: Array<[string, string]> = [
    ['Connection: Content-Length (the issue\'s hijack)', post('Connection: Content-Length')],
    ['Connection: keep-alive, Content-Length', post('Connection: keep-alive, Content-Length')],
    ['Connection: Transfer-Encoding, chunked body', post('Connection: Transfer-Encoding', 'Transfer-Encoding: chunked', chunkedHalf)],
    ['Connection: Host', post('Connection: Host')],
  ];
  const routing = ['Host', 'Cookie', 'X-Forwarded-For', 'X-Forwarded-Proto', 'X-Forwarded-Host'];
  for (const name of ['Content-Length', 'Transfer-Encoding', ...routing]) {
    const framing = name === 'Transfer-Encoding' ? 'Transfer-Encoding: chunked' : `Content-Length: ${HALF.length}`;
    const body = name === 'Transfer-Encoding' ? chunkedHalf : HALF;
    const extra = routing.includes(name) && name !== 'Host' ? `${name}: 1\r\n` : '';
    out.push(
      [`Connection: ${name.toLowerCase()}`, post(`Connection: ${name.toLowerCase()}`, framing, body, extra)],
      [`Connection: ${name.toUpperCase()} among other tokens`, post(`Connection: close , x-other,${name.toUpperCase()}\t`, framing, body, extra)],
      [`a second Connection header naming ${name}`, post(`Connection: keep-alive\r\nConnection: ${name}`, framing, body, extra)],
    );
  }
  return out;
}

test('the issue\'s hijacks: refused with 400, nothing reaches the app, the next client is served its own request', { timeout: 30_000 }, async (t) => {
  const { proxy, app } = await proxyToRecorder(t);
  // A warm pooled connection first, so each attack would land on one the victim then reuses.
  await assertVictimServed(proxy, app, 'before any attack');
  for (const [what, attack] of attacks().slice(0, 4)) {
    const attacker = new RawClient(proxy.port).send(attack);
    await attacker.until(/\r\n\r\n/);
    // The victim first: on a vulnerable proxy it is the one answered the smuggled request.
    await assertVictimServed(proxy, app, what);
    assert.match(attacker.data, /^HTTP\/1\.1 400 [^]*\r\nconnection: close\r\n\r\nConnection may not name/, what);
    await attacker.closed();
    assert.equal(app.connections.join('').includes('attacker'), false, `${what}: not a byte of it reached the app`);
  }
});

test('smuggling corpus: Connection naming each framing and routing header is refused, in any spelling', { timeout: 60_000 }, async (t) => {
  const { proxy, app } = await proxyToRecorder(t);
  await assertVictimServed(proxy, app, 'before any attack');
  for (const [what, attack] of attacks()) {
    const before = app.connections.join('');
    const attacker = new RawClient(proxy.port).send(attack);
    await attacker.closed();
    assert.match(attacker.data, /^HTTP\/1\.1 400 [^]*\r\nx-ccom: bad-request\r\n/, what);
    assert.equal(app.connections.join(''), before, `${what}: not a byte of it reached the app`);
  }
  await assertVictimServed(proxy, app, 'after the corpus');
});

test('Connection naming other headers drops just those; the framing upstream is always the proxy\'s own', { timeout: 30_000 }, async (t) => {
  const { proxy, app } = await proxyToRecorder(t);
  const cases: Array<[string, string, string]> = [
    ['a custom hop-by-hop header', 'POST /a HTTP/1.1\r\nHost: shop\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nContent-Length: 5\r\n\r\nhello', 'hello'],
    ['TE (which must be named)', 'POST /b HTTP/1.1\r\nHost: shop\r\nConnection: TE\r\nTE: trailers\r\nContent-Length: 5\r\n\r\nhello', 'hello'],
    ['Trailer, with a chunked body', 'POST /c HTTP/1.1\r\nHost: shop\r\nConnection: Trailer\r\nTrailer: x-sum\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: 5\r\n\r\n', 'hello'],
    ['the same Content-Length twice', 'POST /d HTTP/1.1\r\nHost: shop\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello', 'hello'],
    ['a Content-Length with leading zeros', 'POST /e HTTP/1.1\r\nHost: shop\r\ncontent-LENGTH: 005\r\n\r\nhello', 'hello'],
  ];
  for (const [what, request, body] of cases) {
    const client = new RawClient(proxy.port).send(request);
    const data = await client.until(/\r\n\r\n[^]*cookie=/);
    client.close();
    assert.match(data, /^HTTP\/1\.1 200 /, what);
    const seen = app.requests.at(-1);
    assert.equal(seen?.body, body, `${what}: the app got the body whole`);
    assert.equal(seen?.headers['x-hop'], undefined, what);
    const wire = app.connections[seen?.connection ?? -1] ?? '';
    const head = wire.slice(wire.lastIndexOf(`POST ${seen?.url} `)).split('\r\n\r\n')[0] ?? '';
    const framing = head.match(/^(?:content-length|transfer-encoding):.*$/gim) ?? [];
    const expected = request.includes('chunked') ? 'transfer-encoding: chunked' : `content-length: ${body.length}`;
    assert.deepEqual(framing, [expected], `${what}: one framing header, the proxy's own, in ${JSON.stringify(head)}`);
    assert.equal(head.split('\r\n')[1], 'Host: shop', `${what}: Host forwarded as sent`);
  }
});

test('a response whose Connection names its own framing keeps it: the client frames it as the proxy did', { timeout: 20_000 }, async (t) => {
  const sockets = new Set<net.Socket>();
  const raw = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => socket.write('HTTP/1.1 200 OK\r\nConnection: Content-Length, X-Hop\r\nX-Hop: 1\r\nContent-Length: 2\r\n\r\nok'));
  });
  const port = await listen(raw);
  const proxy = await startProxy();
  t.after(async () => {
    await proxy.close();
    for (const socket of sockets) socket.destroy();
    raw.close();
  });
  proxy.router.setTable([{ id: 'r1', weight: 1, upstreams: [{ id: 'u1', host: '127.0.0.1', port }] }]);
  const client = new RawClient(proxy.port).send('GET /1 HTTP/1.1\r\nHost: shop\r\n\r\n');
  await client.until(/ok$/);
  client.send('GET /2 HTTP/1.1\r\nHost: shop\r\n\r\n');
  const data = await client.until((d) => d.split('\r\n\r\nok').length === 3);
  client.close();
  const heads = data.split('\r\n\r\nok').slice(0, 2);
  for (const head of heads) {
    assert.match(head, /\r\nContent-Length: 2(?:\r\n|$)/, JSON.stringify(head));
    assert.doesNotMatch(head, /x-hop/i);
  }
});

test('every request reaches the app with exactly one Host, an HTTP/1.0 one behind a local TLS terminator too', { timeout: 20_000 }, async (t) => {
  const { proxy, app } = await proxyToRecorder(t);
  const client = new RawClient(proxy.port).send('GET /old HTTP/1.0\r\nX-Forwarded-Host: shop.example\r\nX-Forwarded-Proto: https\r\n\r\n');
  await client.closed();
  assert.match(client.data, /^HTTP\/1\.1 200 /);
  assert.equal(app.requests.at(-1)?.headers.host, `127.0.0.1:${app.upstream.port}`);
  assert.equal(app.requests.at(-1)?.headers['x-forwarded-host'], 'shop.example');
  const wire = app.connections.join('');
  assert.equal(wire.match(/\r\nhost:/gi)?.length, 1, JSON.stringify(wire));
});
