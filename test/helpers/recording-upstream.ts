import http from 'node:http';
import net from 'node:net';
import type { Upstream } from '../../src/proxy/router.js';
import { listen, stop } from '../fixtures/proxy-servers.js';

/** One request as the app (node:http) parsed it, and which upstream connection carried it. */
export interface RecordedRequest {
  connection: number;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RecordingUpstream {
  /** Where the proxy should send traffic: the recording tap in front of the app. */
  upstream: Upstream;
  /** Every byte each upstream connection delivered to the app (latin1), by connection. */
  connections: string[];
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * A real node:http app behind a TCP tap that records, per connection, exactly the bytes the
 * proxy sent. The app answers `<method> <url> cookie=<cookie>`, so a client can tell whose
 * request it was answered for, and keeps connections alive so the proxy pools them.
 */
export async function startRecordingUpstream(id: string): Promise<RecordingUpstream> {
  const connections: string[] = [];
  const requests: RecordedRequest[] = [];
  const connectionByPort = new Map<number, number>();
  const app = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const connection = connectionByPort.get(req.socket.remotePort ?? 0) ?? -1;
      requests.push({ connection, method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('latin1') });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${req.method} ${req.url} cookie=${req.headers.cookie ?? ''}`);
    });
  });
  const appPort = await listen(app);

  const sockets = new Set<net.Socket>();
  const tap = net.createServer((fromProxy) => {
    const index = connections.push('') - 1;
    const toApp = net.connect(appPort, '127.0.0.1');
    // Registered before any write, so the app's view of this connection is known in time.
    toApp.once('connect', () => connectionByPort.set(toApp.localPort ?? 0, index));
    for (const socket of [fromProxy, toApp]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    fromProxy.on('data', (chunk: Buffer) => {
      connections[index] += chunk.toString('latin1');
      toApp.write(chunk);
    });
    toApp.pipe(fromProxy);
    fromProxy.on('close', () => toApp.destroy());
    toApp.on('close', () => fromProxy.destroy());
  });
  const port = await listen(tap);
  return {
    upstream: { id, host: '127.0.0.1', port },
    connections,
    requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => tap.close(() => resolve()));
      await stop(app);
    },
  };
}
