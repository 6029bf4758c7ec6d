import net, { type Socket } from 'node:net';
import { coarseClock } from './clock.js';
import { directReads } from './direct-reads.js';
import { proxyError } from './failure.js';
import type { Upstream } from './types.js';

/** What uses a connection for one request: the exchange in flight on it. */
export interface UpstreamUser {
  onUpstreamData(chunk: Buffer): void;
  /** The upstream finished sending (EOF); a body delimited by the close ends here. */
  onUpstreamEnd(): void;
  /** The connection is gone; `err` says why when it did not end cleanly. */
  onUpstreamClose(err: Error): void;
  onUpstreamDrain(): void;
}

/** Time allowed to establish a connection to an instance (undici's default too). */
const CONNECT_TIMEOUT_MS = 10_000;
/**
 * One keep-alive TCP connection to an instance. Its listeners are installed once and forward to
 * whichever exchange is using it, so reusing it costs no new closures.
 */
export class UpstreamConnection {
  readonly socket: Socket;
  user: UpstreamUser | null = null;
  /** Has carried a complete exchange: a failure before any byte may just be a stale keep-alive. */
  reused = false;
  /** A WebSocket (or other Upgrade) tunnel: no response timeout, never pooled again. */
  tunnel = false;
  /** When this connection, idle in the pool, must be closed (the upstream's keep-alive ends). */
  idleUntil = 0;
  lastActive = coarseClock.now;
  private failure: Error | undefined;
  private connectTimer: NodeJS.Timeout | undefined;

  constructor(
    upstream: Upstream,
    private readonly onGone: (conn: UpstreamConnection) => void,
  ) {
    // Reads land in one shared buffer and are copied out (into the small-buffer pool): no 64 KB
    // allocation per read and no trip through the Readable stream machinery ('data' events,
    // a nextTick each), which was a tenth of the proxy's CPU for small answers.
    this.socket = net.connect({
      host: upstream.host,
      port: upstream.port,
      noDelay: true,
      onread: directReads((chunk) => this.onRead(chunk)),
    });
    this.connectTimer = setTimeout(() => this.fail(proxyError('CCOM_CONNECT_TIMEOUT', `no connection within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
    this.socket.once('connect', () => {
      clearTimeout(this.connectTimer);
      this.connectTimer = undefined;
    });
    this.socket.on('end', () => this.user?.onUpstreamEnd());
    this.socket.on('drain', () => this.user?.onUpstreamDrain());
    this.socket.on('error', (err) => (this.failure ??= err));
    this.socket.on('close', () => {
      clearTimeout(this.connectTimer);
      this.onGone(this);
      const user = this.user;
      this.user = null;
      try {
        user?.onUpstreamClose(this.failure ?? proxyError('CCOM_UPSTREAM_CLOSED', 'the instance closed the connection before answering'));
      } catch (err) {
        console.error('ccom proxy: internal error while closing an upstream connection:', err);
      }
    });
  }

  private onRead(chunk: Buffer): void {
    this.lastActive = coarseClock.now;
    try {
      if (this.user !== null) this.user.onUpstreamData(chunk);
      else this.fail(proxyError('CCOM_BAD_RESPONSE', 'the instance sent bytes nobody asked for'));
    } catch (err) {
      // A bug met on this exchange fails this exchange (502 or a cut), never the agent.
      console.error('ccom proxy: internal error on an upstream connection:', err);
      this.fail(proxyError('CCOM_PROXY_ERROR', `proxy error: ${err instanceof Error ? err.message : String(err)}`));
    }
  }

  /** Ends the connection with `err` as the reason its user is given. */
  fail(err: Error): void {
    this.failure ??= err;
    this.socket.destroy();
  }

  write(data: Buffer | string): boolean {
    this.lastActive = coarseClock.now;
    return typeof data === 'string' ? this.socket.write(data, 'latin1') : this.socket.write(data);
  }
}
