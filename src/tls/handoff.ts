import { chmodSync, rmSync } from 'node:fs';
import { connect, createServer, isIPv4, isIPv6, type Server, type Socket } from 'node:net';

/**
 * A connection one agent accepted on a shared port and hands to another over a unix socket:
 * first a PROXY protocol v1 line with the client's address, then the client's bytes as they
 * came (the TLS ClientHello, or the plain request). The receiver treats it exactly as one
 * accepted on its own public port, so `x-forwarded-for` names the real client.
 */

/** The longest PROXY v1 line the protocol allows. */
const MAX_PROXY_LINE = 107;
/** A handing agent that sends no PROXY line by then is not one. */
const LINE_TIMEOUT_MS = 5_000;

export function proxyLine(socket: Socket): string {
  const { remoteAddress: from, localAddress: to, remotePort, localPort } = socket;
  if (from === undefined || to === undefined || remotePort === undefined || localPort === undefined) return 'PROXY UNKNOWN\r\n';
  const family = isIPv4(from) && isIPv4(to) ? 'TCP4' : isIPv6(from) && isIPv6(to) ? 'TCP6' : undefined;
  return family ? `PROXY ${family} ${from} ${to} ${remotePort} ${localPort}\r\n` : 'PROXY UNKNOWN\r\n';
}

/**
 * Connects to `path`, writes the PROXY line and the bytes already read, then pipes both ways.
 * `onFail` hears a connection that could not be made (nothing was sent: it may be tried again).
 */
export function handOff(client: Socket, path: string, peeked: Buffer, onFail: (err: Error) => void): void {
  const upstream = connect(path);
  let connected = false;
  const abandon = () => upstream.destroy();
  client.once('close', abandon);
  upstream.once('connect', () => {
    connected = true;
    client.off('close', abandon);
    upstream.write(proxyLine(client));
    upstream.write(peeked);
    // pipe() pauses the faster side when the other's buffer is full (backpressure both ways).
    client.pipe(upstream);
    upstream.pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  upstream.once('error', (err) => {
    if (connected) return void client.destroy();
    client.off('close', abandon);
    onFail(err);
  });
}

/**
 * The receiving side: a unix socket in the app's state folder (0600), one per shared port.
 * `serve` gets each handed connection with the client's address on `remoteAddress`.
 */
export async function listenForHandoffs(path: string, serve: (socket: Socket) => void, log: (message: string) => void): Promise<Server> {
  rmSync(path, { force: true });
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => readProxyLine(socket, serve));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  server.on('error', (err) => log(`handoff socket ${path}: ${err.message}`));
  return server;
}

function readProxyLine(socket: Socket, serve: (socket: Socket) => void): void {
  let head = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), LINE_TIMEOUT_MS);
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n');
    if (end === -1) {
      if (head.length > MAX_PROXY_LINE) socket.destroy();
      return;
    }
    clearTimeout(timer);
    socket.off('data', onData);
    socket.pause();
    const fields = head.subarray(0, end).toString('latin1').split(' ');
    if (fields[0] !== 'PROXY') return void socket.destroy();
    if (fields[1] === 'TCP4' || fields[1] === 'TCP6') {
      Object.defineProperty(socket, 'remoteAddress', { value: fields[2], configurable: true });
      Object.defineProperty(socket, 'remotePort', { value: Number(fields[4]), configurable: true });
    }
    const rest = head.subarray(end + 2);
    if (rest.length > 0) socket.unshift(rest);
    serve(socket);
  };
  socket.on('data', onData);
  socket.once('error', () => clearTimeout(timer));
  socket.resume();
}

/**
 * A TLS socket over a handed connection reads its peer from the unix socket (no address): it
 * takes the client's from the connection it wraps (node keeps that as `_parent`).
 */
export function inheritClientAddress(tlsSocket: Socket): void {
  const parent = (tlsSocket as unknown as { _parent?: Socket })._parent;
  if (!parent || !Object.prototype.hasOwnProperty.call(parent, 'remoteAddress')) return;
  Object.defineProperty(tlsSocket, 'remoteAddress', { value: parent.remoteAddress, configurable: true });
  Object.defineProperty(tlsSocket, 'remotePort', { value: parent.remotePort, configurable: true });
}
