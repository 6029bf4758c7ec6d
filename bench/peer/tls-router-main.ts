/**
 * ccom's HTTPS path alone, in its own process: a TCP acceptor handing each connection to the
 * TLS terminator, whose sockets go to the same Router and engine as the agent's (no host guard,
 * no supervisor). Usage: node --import tsx bench/peer/tls-router-main.ts <upstream port> <cert> <key> <name>.
 * Prints `listening <port>` once it serves; SIGTERM closes it.
 */
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { createProxyServer, Router } from '../../src/proxy/router.js';
import { SniTable } from '../../src/tls/sni-table.js';
import { TlsTerminator } from '../../src/tls/tls-terminator.js';

const [port, certFile, keyFile, name] = process.argv.slice(2);
const upstreamPort = Number(port);
if (!Number.isInteger(upstreamPort) || upstreamPort <= 0 || !certFile || !keyFile || !name) {
  console.error('usage: tls-router-main.ts <upstream port> <cert> <key> <name>');
  process.exit(2);
}

const pair = { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
const router = new Router();
router.setTable([{ id: 'bench', weight: 1, upstreams: [{ id: 'bench-1', host: '127.0.0.1', port: upstreamPort }] }]);
const engine = createProxyServer(router);
engine.emit('listening');
const sni = new SniTable();
sni.set([name], pair);
const terminator = new TlsTerminator(sni, (socket) => engine.emit('connection', socket));
terminator.setDefault(pair);
const acceptor = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => terminator.accept(socket));
acceptor.listen(0, '127.0.0.1', () => {
  console.log(`listening ${(acceptor.address() as AddressInfo).port}`);
});

process.on('SIGTERM', () => {
  engine.closeAllConnections();
  acceptor.close();
  void router.close().finally(() => process.exit(0));
});
