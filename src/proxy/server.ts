import { Server } from 'node:net';
import { ClientConnection, type ConnectionHost, type RequestDispatcher } from './client-connection.js';
import { tick } from './clock.js';

/** Longer than the usual load balancer / browser idle timeout (60 s), so the client closes first. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** A client that has not finished sending a head by then is cut off (slowloris). */
const HEAD_TIMEOUT_MS = 66_000;
/**
 * A request body with no byte for this long is given up on (nginx's client_body_timeout):
 * otherwise each stalled upload holds two sockets, the client's and the instance's, forever.
 */
const BODY_TIMEOUT_MS = 60_000;
/**
 * After the proxy closed its side and everything went out, how long the client has to close
 * its own: one that never does (a slowloris after its 408) would keep the socket forever.
 */
const LINGER_MS = 5_000;
const SWEEP_MS = 1_000;

/**
 * The public listener: a TCP server whose connections speak HTTP/1.1 through ClientConnection,
 * every request routed by the dispatcher (the Router). Keeps its connections so it can close
 * idle ones, answer the last request of each with `Connection: close` while draining, and time
 * out idle keep-alives, slow heads and stalled bodies.
 */
export interface ProxyServerOptions {
  /** Close a connection idle between requests after this long. */
  keepAliveTimeoutMs?: number;
  /** Answer 408 and close when a request head takes longer than this to arrive. */
  headTimeoutMs?: number;
  /** Answer 408 (or cut, once a response started) when a request body sends nothing for this long. */
  bodyTimeoutMs?: number;
}

export class ProxyServer extends Server implements ConnectionHost {
  private readonly clients = new Set<ClientConnection>();
  private sweeper: NodeJS.Timeout | undefined;
  private readonly keepAliveTimeoutMs: number;
  private readonly headTimeoutMs: number;
  private readonly bodyTimeoutMs: number;
  /** Set while handing over: each connection closes after its current response. */
  draining = false;

  constructor(dispatcher: RequestDispatcher, options: ProxyServerOptions = {}) {
    super({ allowHalfOpen: true, noDelay: true });
    this.keepAliveTimeoutMs = options.keepAliveTimeoutMs ?? KEEP_ALIVE_TIMEOUT_MS;
    this.headTimeoutMs = options.headTimeoutMs ?? HEAD_TIMEOUT_MS;
    this.bodyTimeoutMs = options.bodyTimeoutMs ?? BODY_TIMEOUT_MS;
    this.on('connection', (socket) => {
      const conn = new ClientConnection(socket, dispatcher, this);
      this.clients.add(conn);
    });
    // Accept failures (EMFILE: out of file descriptors) must not end the agent: log and go on.
    this.on('error', (err) => {
      if (this.listening) console.error(`ccom proxy: accepting a connection failed: ${err.message}`);
    });
    this.on('listening', () => {
      tick();
      this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS).unref();
    });
    this.on('close', () => {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    });
  }

  forget(conn: ClientConnection): void {
    this.clients.delete(conn);
  }

  /** Closes every connection that is between requests; busy ones finish first. */
  closeIdleConnections(): void {
    for (const conn of this.clients) conn.closeIfIdle();
  }

  /** Cuts every connection, busy ones included. */
  closeAllConnections(): void {
    for (const conn of this.clients) conn.destroy();
  }

  /** From now on every response closes its connection, so clients reconnect elsewhere. */
  startDraining(): void {
    this.draining = true;
  }

  private sweep(): void {
    const now = tick();
    for (const conn of this.clients) {
      if (conn.endedAt !== 0) {
        if (now - conn.endedAt > LINGER_MS && conn.flushed) conn.destroy();
        continue;
      }
      if (conn.waitingForBody) {
        if (now - conn.lastActive > this.bodyTimeoutMs) conn.timeOutBody();
        continue;
      }
      if (!conn.waitingForHead) continue;
      if (conn.hasPartialHead && now - conn.headStartedAt > this.headTimeoutMs) {
        conn.timeOutHead();
      } else if (!conn.hasPartialHead && now - conn.lastActive > this.keepAliveTimeoutMs) {
        conn.closeIfIdle();
      }
    }
  }
}

/** The public listener for `router`. */
export function createProxyServer(dispatcher: RequestDispatcher, options?: ProxyServerOptions): ProxyServer {
  return new ProxyServer(dispatcher, options);
}
