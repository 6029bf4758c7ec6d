/**
 * One TLS version and cipher suite for every client of the TLS benchmark, so ccom and nginx are
 * compared doing the same cryptography. The clients pin it (a server honours the client's choice
 * among the suites it offers), and each peer's negotiation is checked, not assumed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, createServer, type ConnectionOptions } from 'node:tls';
import type { CertificateFiles } from './tls-cert.js';
import { runWrk, type WrkOptions } from './wrk.js';

export const PINNED_PROTOCOL = 'TLSv1.3';
export const PINNED_CIPHER = 'TLS_AES_128_GCM_SHA256';

/** Node client options offering only the pinned suite; no `session`: every handshake is a full one. */
export function pinnedClient(port: number, servername: string, ca: string): ConnectionOptions {
  return { host: '127.0.0.1', port, servername, ca: readFileSync(ca), minVersion: PINNED_PROTOCOL, maxVersion: PINNED_PROTOCOL, ciphers: PINNED_CIPHER };
}

/**
 * wrk has no TLS options: the pin goes through OpenSSL's own config (OPENSSL_CONF, applied to
 * every context it makes), and a Lua script connects to 127.0.0.1 while the URL keeps the
 * domain, so wrk sends it as SNI and Host as a browser would (nothing resolves shop.test here).
 */
export function wrkTlsOptions(dir: string): WrkOptions {
  const conf = join(dir, 'openssl-pin.cnf');
  writeFileSync(conf, `openssl_conf = pin\n[pin]\nssl_conf = ssl\n[ssl]\nsystem_default = tls\n[tls]\nMinProtocol = ${PINNED_PROTOCOL}\nMaxProtocol = ${PINNED_PROTOCOL}\nCiphersuites = ${PINNED_CIPHER}\n`);
  const script = join(dir, 'to-loopback.lua');
  writeFileSync(script, 'function wrk.resolve(host, service)\n  wrk.addrs = wrk.lookup("127.0.0.1", service)\nend\n');
  return { script, env: { OPENSSL_CONF: conf } };
}

/** "TLSv1.3 TLS_AES_128_GCM_SHA256": what a pinned Node client negotiates with the server on `port`. */
export function negotiated(port: number, servername: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(pinnedClient(port, servername, ca), () => {
      resolve(`${socket.getProtocol()} ${socket.getCipher().standardName}`);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

/**
 * What wrk, with `options`, negotiates: a one-second run against a TLS server of our own that
 * records each connection's protocol and suite. Throws when the pin did not take.
 */
export async function wrkNegotiates(wrk: string, options: WrkOptions, files: CertificateFiles, servername: string): Promise<string> {
  const seen = new Set<string>();
  const server = createServer({ cert: readFileSync(files.cert), key: readFileSync(files.key) }, (socket) => {
    seen.add(`${socket.getProtocol()} ${socket.getCipher().standardName}`);
    socket.on('data', () => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'));
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as { port: number };
    await runWrk(wrk, `https://${servername}:${port}/`, 1, 2, options);
  } finally {
    server.close();
  }
  const expected = `${PINNED_PROTOCOL} ${PINNED_CIPHER}`;
  if (seen.size !== 1 || !seen.has(expected)) throw new Error(`wrk did not pin ${expected} through OPENSSL_CONF: it negotiated ${[...seen].join(', ') || 'nothing'}`);
  return expected;
}
