import type { Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { CertificatePair } from './cert-store.js';
import type { SniTable } from './sni-table.js';

/** A handshake not done by then is dropped: otherwise idle TCP connections hold sockets for free. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Turns accepted TCP connections into TLS ones for the proxy: it never listens itself (the
 * public listener hands it each connection), and passes every finished handshake on to
 * `onSecure`, where the same HTTP/1.1 engine as for plain HTTP takes over. The certificate is
 * chosen per handshake from the SNI table, so a renewal is picked up by the next handshake.
 */
export class TlsTerminator {
  private readonly server: Server;

  constructor(sni: SniTable, onSecure: (socket: TLSSocket) => void) {
    this.server = createServer({
      SNICallback: (servername, done) => done(null, sni.lookup(servername)),
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      // HTTP/1.1 only: a browser offered h2 must not pick it on a server that cannot speak it.
      ALPNProtocols: ['http/1.1'],
      minVersion: 'TLSv1.2',
      allowHalfOpen: true,
    });
    this.server.on('secureConnection', onSecure);
    // Scanners and clients that distrust the certificate fail here; nothing to answer them.
    this.server.on('tlsClientError', (_err, socket) => socket.destroy());
  }

  /** For clients that send no server name (SNI): they get a 421 over it, not a failed handshake. */
  setDefault(pair: CertificatePair): void {
    this.server.setSecureContext({ key: pair.key, cert: pair.cert });
  }

  /** Starts the handshake on an accepted connection. */
  accept(socket: Socket): void {
    this.server.emit('connection', socket);
  }
}
