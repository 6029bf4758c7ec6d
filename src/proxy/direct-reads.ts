import { Socket } from 'node:net';

/**
 * Reads through `onread`: libuv reads into one shared buffer and a callback gets the byte count,
 * with no Readable stream in between. A stream read costs a fresh 64 KB allocation shrunk to
 * size, a push, a 'data' emit and a nextTick (maybeReadMore) per read: on client sockets that
 * was about 8 µs of the proxy's CPU per request, more than all its HTTP parsing.
 */

/** What one read may take, shared by every socket that reads directly (each read is copied out at once). */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

export type ReadCallback = (chunk: Buffer) => void;

/** The options for `net.connect` / `new Socket` that make `onRead` get each read, as its own buffer. */
export function directReads(onRead: ReadCallback): { buffer: Buffer; callback: (n: number) => boolean } {
  return {
    buffer: READ_BUFFER,
    callback: (n: number) => {
      onRead(copyOfRead(n));
      // Always go on reading: a user that must stop pauses the socket itself.
      return true;
    },
  };
}

/** The `n` bytes just read into READ_BUFFER, in a buffer of their own (from Node's small-buffer pool when small). */
function copyOfRead(n: number): Buffer {
  const chunk = Buffer.allocUnsafe(n);
  READ_BUFFER.copy(chunk, 0, 0, n);
  return chunk;
}

/**
 * The parts of an accepted socket that Node keeps private and a re-wrap must move: its native
 * handle, and the server that counts it (for `maxConnections` and `server.close()`'s wait).
 */
interface AcceptedSocket {
  _handle?: { readStop?: () => number; useUserBuffer?: (buffer: Buffer) => void; reading?: boolean } | null;
  _server?: unknown;
  server?: unknown;
}

/**
 * `net.Server` has no `onread` option, so an accepted connection reads through the stream
 * machinery. This moves the connection's native handle into a new `net.Socket` created with
 * `onread` (what `net.Server` itself does with each accepted handle, `new Socket({ handle })`),
 * and moves the server's count of it along, so `maxConnections` and `server.close()` still see
 * it. The old socket is left without a handle and destroyed, which closes nothing.
 *
 * Only a plain, untouched TCP socket is taken over: nothing read or written yet, no listeners
 * but Node's own, no address set by hand (a PROXY-protocol handoff). Anything else (a TLS
 * socket, bytes put back by the shared-port front) returns null and keeps its stream reads.
 */
export function rewrapWithDirectReads(socket: Socket, onRead: ReadCallback): Socket | null {
  const accepted = socket as unknown as AcceptedSocket;
  const handle = accepted._handle;
  if (
    socket.constructor !== Socket ||
    !handle ||
    typeof handle.readStop !== 'function' ||
    typeof handle.useUserBuffer !== 'function' ||
    socket.destroyed ||
    socket.connecting ||
    !socket.readable ||
    !socket.writable ||
    socket.readableLength > 0 ||
    socket.writableLength > 0 ||
    socket.bytesWritten > 0 ||
    Object.prototype.hasOwnProperty.call(socket, 'remoteAddress') ||
    socket.listenerCount('data') + socket.listenerCount('readable') + socket.listenerCount('close') > 0 ||
    // Node's own: net.Socket listens to its 'end' (onReadableStreamEnd).
    socket.listenerCount('end') > 1
  ) {
    return null;
  }
  // Bytes not read yet stay in the kernel until the new socket starts reading.
  handle.reading = false;
  handle.readStop();
  accepted._handle = null;
  const server = accepted._server;
  accepted._server = null;
  const direct = new Socket({ handle, allowHalfOpen: socket.allowHalfOpen, onread: directReads(onRead) } as ConstructorParameters<typeof Socket>[0]);
  const moved = direct as unknown as AcceptedSocket;
  moved._server = server;
  moved.server = accepted.server;
  socket.destroy();
  return direct;
}
