/**
 * The floor of any Node HTTPS proxy: a bare `tls.createServer` that answers every keep-alive
 * request with a fixed response, proxying nothing and parsing nothing but the blank line.
 * Whatever it costs per request, a Node proxy costs more. Usage: node --import tsx
 * bench/peer/tls-floor-main.ts <cert> <key>. Prints `listening <port>`; SIGTERM ends it.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:tls';

const [certFile, keyFile] = process.argv.slice(2);
if (!certFile || !keyFile) {
  console.error('usage: tls-floor-main.ts <cert> <key>');
  process.exit(2);
}
const ANSWER = Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 25\r\n\r\nhello from the bench app\n');
const server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile), ALPNProtocols: ['http/1.1'] }, (socket) => {
  socket.setNoDelay(true);
  // wrk sends one request at a time per connection: one answer per head end seen.
  socket.on('data', (chunk: Buffer) => {
    if (chunk.indexOf('\r\n\r\n') !== -1) socket.write(ANSWER);
  });
  socket.on('error', () => undefined);
});
server.listen(0, '127.0.0.1', () => console.log(`listening ${(server.address() as AddressInfo).port}`));
process.on('SIGTERM', () => process.exit(0));
