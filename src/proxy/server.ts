import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Router } from './router.js';

/** Longer than the usual load balancer / browser idle timeout (60 s), so the client closes first. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

const UPGRADE_REFUSED = (() => {
  const body = 'upgrade (WebSocket) is not supported by the ccom proxy yet\n';
  return [
    'HTTP/1.1 501 Not Implemented',
    'content-type: text/plain; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    'x-ccom: upgrade-unsupported',
    'connection: close',
    '',
    body,
  ].join('\r\n');
})();

function refuseUpgrade(_req: http.IncomingMessage, socket: Duplex): void {
  socket.on('error', () => undefined);
  socket.end(UPGRADE_REFUSED);
}

/** The public listener: node:http tuned for long keep-alive, every request routed by `router`. */
export function createProxyServer(router: Router): http.Server {
  const server = http.createServer(
    {
      // Must exceed keepAliveTimeout, or node may drop a reused connection mid-head.
      headersTimeout: KEEP_ALIVE_TIMEOUT_MS + 1_000,
      // Uploads and long polls may take as long as they need; the upstream decides.
      requestTimeout: 0,
    },
    (req, res) => router.handle(req, res),
  );
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.on('upgrade', refuseUpgrade);
  return server;
}
