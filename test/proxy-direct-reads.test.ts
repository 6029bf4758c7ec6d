import { Server, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProxyServer, Router } from '../src/proxy/router.js';
import { startUpstream, stop } from './fixtures/proxy-servers.js';
import { RawClient } from './helpers/raw-client.js';

/**
 * Client connections are moved into sockets that read through `onread` (src/proxy/direct-reads.ts).
 * The accepting server must go on counting them (its `maxConnections` and `close()` depend on
 * it), and a socket someone already read from must keep its stream reads and lose nothing.
 */

const GET = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
const answered = /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\na1\r\n0\r\n\r\n$/;

/** An acceptor in front of the proxy engine, as the agent's public listener is; `onAccept` may touch each socket first. */
async function acceptorWithProxy(t: { after(fn: () => Promise<void>): void }, onAccept: (socket: Socket, serve: (s: Socket) => void) => void) {
  const app = await startUpstream('a1');
  const router = new Router();
  router.setTable([{ id: 'r1', weight: 1, upstreams: [app.upstream] }]);
  const engine = createProxyServer(router);
  engine.emit('listening');
  const acceptor = new Server({ allowHalfOpen: true, noDelay: true });
  acceptor.on('connection', (socket: Socket) => onAccept(socket, (s) => engine.emit('connection', s)));
  await new Promise<void>((resolve) => acceptor.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    engine.closeAllConnections();
    acceptor.close();
    engine.emit('close');
    await router.close();
    await stop(app.server);
  });
  return { acceptor, port: (acceptor.address() as AddressInfo).port };
}

const connections = (server: Server) => new Promise<number>((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));

/** Waits (5 s at most) for the server's count of open connections to reach `n`. */
async function untilConnections(server: Server, n: number): Promise<void> {
  let count = await connections(server);
  for (let tries = 0; count !== n && tries < 500; tries++) {
    await new Promise((r) => setTimeout(r, 10));
    count = await connections(server);
  }
  assert.equal(count, n, 'open connections the server counts');
}

test('re-wrapped connections still count on the accepting server: maxConnections drops the excess, close() waits for them', { timeout: 20_000 }, async (t) => {
  const accepted: Socket[] = [];
  const { acceptor, port } = await acceptorWithProxy(t, (socket, serve) => {
    accepted.push(socket);
    serve(socket);
  });
  acceptor.maxConnections = 2;
  const a = new RawClient(port).send(GET);
  const b = new RawClient(port).send(GET);
  assert.match(await a.until(answered), answered);
  assert.match(await b.until(answered), answered);
  // The sockets the server made were emptied into new ones: destroyed, while their connections serve on.
  assert.equal(accepted.length, 2);
  assert.ok(accepted.every((s) => s.destroyed), 'the accepted sockets were taken over');
  assert.equal(await connections(acceptor), 2);

  const third = new RawClient(port).send(GET);
  await third.closed();
  assert.equal(third.data, '', 'over maxConnections: dropped unanswered');

  a.close();
  await untilConnections(acceptor, 1);
  const d = new RawClient(port).send(GET);
  assert.match(await d.until(answered), answered, 'a place freed by a closed connection is taken again');

  let closed = false;
  acceptor.close(() => (closed = true));
  b.data = '';
  b.send(GET);
  assert.match(await b.until(answered), answered, 'open connections are served after close()');
  assert.equal(closed, false, 'close() waits for the open connections');
  b.close();
  d.close();
  await untilConnections(acceptor, 0);
  await new Promise((r) => setImmediate(r));
  assert.equal(closed, true, 'close() completes once they are gone');
});

test('a connection whose first bytes were read and put back (the shared-port front) keeps stream reads and loses nothing', { timeout: 20_000 }, async (t) => {
  const { port } = await acceptorWithProxy(t, (socket, serve) => {
    socket.once('data', (chunk: Buffer) => {
      socket.unshift(chunk);
      serve(socket);
    });
  });
  const client = new RawClient(port).send(`${GET}${GET}`);
  await client.until((data) => (data.match(/HTTP\/1\.1 200 OK/g) ?? []).length === 2);
  client.data = '';
  client.send(GET);
  assert.match(await client.until(answered), answered);
  client.close();
});
