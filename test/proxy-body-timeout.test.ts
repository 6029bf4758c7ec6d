import type http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProxyServer, Router } from '../src/proxy/router.js';
import type { ProxyServer } from '../src/proxy/server.js';
import { listen, startUpstream, stop, type Handler } from './fixtures/proxy-servers.js';
import { RawClient } from './helpers/raw-client.js';

/**
 * A request body that stops arriving: without a timeout each such upload holds two sockets (the
 * client's and the instance's) forever, and ~10,000 of them exhaust the agent's descriptors.
 */

/** Short enough for a test; the 1 s sweep makes the real limit 2 to 3 s. */
const BODY_TIMEOUT_MS = 2_000;

async function proxyWithBodyTimeout(t: { after(fn: () => Promise<void>): void }, handler: Handler) {
  const app = await startUpstream('a1', handler);
  const router = new Router({ log: () => undefined });
  const server = createProxyServer(router, { bodyTimeoutMs: BODY_TIMEOUT_MS });
  const port = await listen(server);
  t.after(async () => { await stop(server); await router.close(); await app.kill(); });
  router.setTable([{ id: 'r1', weight: 1, upstreams: [app.upstream] }]);
  return { router, server, port };
}

const connections = (server: ProxyServer) => new Promise<number>((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));

async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Reads the whole body and answers with it. */
const echo: Handler = (req, res) => {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString()));
  req.on('end', () => res.end(`got ${body}`));
};

test('a body that trickles in steadily completes; one that stalls gets 408 and frees both sockets', { timeout: 30_000 }, async (t) => {
  const aborted: string[] = [];
  const { router, server, port } = await proxyWithBodyTimeout(t, (req, res) => {
    req.on('close', () => {
      if (!req.complete) aborted.push(req.url ?? '');
    });
    echo(req, res);
  });

  // One byte every 250 ms for 3 s: longer than the timeout in total, never idle for it.
  const steady = new RawClient(port).send('POST /steady HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n');
  for (const byte of 'hello, world') {
    await new Promise((resolve) => setTimeout(resolve, 250));
    steady.send(byte);
  }
  assert.match(await steady.until(/got hello, world/, 10_000), /^HTTP\/1\.1 200 /);
  steady.close();

  // A client that never closes its side, as a slowloris does.
  const stalled = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  let answer = '';
  let ended = false;
  stalled.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  stalled.on('end', () => (ended = true));
  stalled.on('error', () => undefined);
  t.after(() => void stalled.destroy());
  stalled.write('POST /stalled HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly this');
  await eventually('the stalled upload answered', () => ended, 15_000);
  assert.match(answer, /^HTTP\/1\.1 408 Request Timeout\r\n[^]*connection: close\r\n[^]*request body not received in time/);
  await eventually('the app saw the upload aborted', () => aborted.includes('/stalled'));
  await eventually('the proxy released the client socket though the client never closed it', async () => (await connections(server)) === 0, 15_000);
  const counters = router.counters('r1');
  assert.deepEqual([counters.status5xx, counters.connectionErrors], [0, 0], 'a slow client is not the release\'s error');
});

test('a body that stalls after the response started: the connection is cut', { timeout: 30_000 }, async (t) => {
  const { port } = await proxyWithBodyTimeout(t, (req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('partial');
    req.resume();
    req.on('end', () => res.end());
  });
  const client = new RawClient(port).send('POST /early HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly this');
  await client.until(/partial/);
  await client.closed(15_000);
  assert.doesNotMatch(client.data, /\r\n0\r\n\r\n$/, 'the response was not completed');
  assert.doesNotMatch(client.data, /408/);
});
