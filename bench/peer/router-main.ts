/**
 * ccom's proxy alone, in its own process: the agent's Router and public server, routing every
 * request to one upstream. Usage: node --import tsx bench/peer/router-main.ts <upstream port>.
 * Prints `listening <port>` once it serves; SIGTERM closes it.
 */
import type { AddressInfo } from 'node:net';
import { createProxyServer, Router } from '../../src/proxy/router.js';

const upstreamPort = Number(process.argv[2]);
if (!Number.isInteger(upstreamPort) || upstreamPort <= 0) {
  console.error('usage: router-main.ts <upstream port>');
  process.exit(2);
}

const router = new Router();
router.setTable([{ id: 'bench', weight: 1, upstreams: [{ id: 'bench-1', host: '127.0.0.1', port: upstreamPort }] }]);
const server = createProxyServer(router);
server.listen(0, '127.0.0.1', () => {
  console.log(`listening ${(server.address() as AddressInfo).port}`);
});

process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close();
  void router.close().finally(() => process.exit(0));
});
