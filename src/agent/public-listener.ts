import { Server, type AddressInfo, type Socket } from 'node:net';
import type { ProxyServer } from '../proxy/server.js';
import { describePortOwner } from '../gates/port.js';
import { UserError } from '../errors.js';
import { publicConnectionCap } from './connection-cap.js';
import { HELD_SOCKET_FD, type HeldAddress } from './held-socket.js';

/** What the public port needs from HTTPS: its connections, its engine (to drain), its URL. */
export interface TlsFront {
  /** Takes an accepted TCP connection through the TLS handshake into its own proxy engine. */
  accept(socket: Socket): void;
  readonly proxy: ProxyServer;
  url(port: number): string;
  close(): Promise<void>;
}

/** Hands connections for other apps' names on (src/tls/port-front.ts); `shared` false: nobody else is registered. */
export interface SharedFront {
  readonly shared: boolean;
  accept(socket: Socket): void;
}

/** How long connections that were idle at a handover may still send one more request. */
const IDLE_GRACE_MS = 2_000;

/**
 * The public port the proxy serves on; can move to another port without dropping the old one
 * first. One TCP server accepts; each connection goes to the plain-HTTP engine or, once HTTPS is
 * configured, through the TLS front to its engine: the port can turn to HTTPS on the socket the
 * guardian holds, with nothing re-bound.
 */
export class PublicListener {
  private server: Server | null = null;
  private readonly plain: ProxyServer;
  private tls: TlsFront | null = null;
  private front: SharedFront | null = null;
  /** Connections accepted while held (see hold). */
  private waiting: Socket[] | null = null;
  private bound: { host: string; port: number } | null = null;
  /** The current server accepts on the socket the guardian holds. */
  private onHeld = false;
  /**
   * It moved to another address: the guardian still holds the old port, where nobody accepts
   * any more, until a new guardian (holding the new socket) replaces it.
   */
  leftHeldSocket = false;

  /** Read once: the guardian sets the open-files limit before the agent starts. */
  private readonly maxConnections = publicConnectionCap();

  /**
   * @param held the address of the socket the guardian holds at HELD_SOCKET_FD, if any: serving
   * there means accepting on that socket, so connections made while no agent ran are answered.
   */
  constructor(
    createProxy: () => ProxyServer,
    private held?: HeldAddress,
  ) {
    this.plain = createProxy();
    startEngine(this.plain);
  }

  /** HTTPS from the next connection on (null: plain HTTP again); connections already open keep theirs. */
  async useTls(front: TlsFront | null): Promise<void> {
    const previous = this.tls;
    if (previous === front) return;
    if (front) startEngine(front.proxy);
    this.tls = front;
    if (previous) {
      previous.proxy.closeIdleConnections();
      await previous.close();
    }
  }

  private createServer(): Server {
    const server = new Server({ allowHalfOpen: true, noDelay: true, pauseOnConnect: false });
    server.on('connection', (socket: Socket) => (this.waiting ? this.waiting.push(socket) : this.route(socket)));
    if (this.maxConnections !== undefined) server.maxConnections = this.maxConnections;
    return server;
  }

  private route(socket: Socket): void {
    if (this.front?.shared) this.front.accept(socket);
    else this.serve(socket);
  }

  /**
   * Until `release`, accepted connections wait here: a restarted HTTPS agent binds before its
   * certificate and its place on a shared port are set up, and must not answer in plain text
   * or with its own certificate for another app's name meanwhile.
   */
  hold(): void {
    this.waiting ??= [];
  }

  release(): void {
    const waiting = this.waiting ?? [];
    this.waiting = null;
    for (const socket of waiting) if (!socket.destroyed) this.route(socket);
  }

  /** A connection as this app serves it: through TLS once HTTPS is configured, else plain. */
  serve(socket: Socket): void {
    if (this.tls) this.tls.accept(socket);
    else this.plain.emit('connection', socket);
  }

  /** On a port several apps share by host name, the front looks at each connection first (null: none). */
  useFront(front: SharedFront | null): void {
    this.front = front;
  }

  private engines(): ProxyServer[] {
    return this.tls ? [this.plain, this.tls.proxy] : [this.plain];
  }

  address(): { host: string; port: number } | null {
    return this.bound;
  }

  url(): string | null {
    if (!this.bound) return null;
    return this.tls ? this.tls.url(this.bound.port) : `http://${this.bound.host}:${this.bound.port}`;
  }

  /**
   * Binds `host:port` (0 picks a free port); a no-op when already bound there. `quiet`: a taken
   * port is not described (that scans /proc), for attempts repeated every few milliseconds.
   */
  async listen(host: string, port: number, opts: { quiet?: boolean } = {}): Promise<{ host: string; port: number }> {
    if (this.bound && this.bound.host === host && (port === 0 || this.bound.port === port)) return this.bound;
    const held = this.held && this.held.host === host && (port === 0 || this.held.port === port);
    // Used once: closing its server closes the descriptor, whose number may then be reused.
    if (held) this.held = undefined;
    const server = this.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(held ? { fd: HELD_SOCKET_FD } : { port, host }, () => {
        server.off('error', reject);
        keepAccepting(server);
        resolve();
      });
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        const owner = opts.quiet ? undefined : describePortOwner(port);
        throw new UserError(`port ${port} on ${host} is already in use${owner ? ` by ${owner}` : ''}`, {
          fix: `stop that program or set proxy.port in ccom.yaml to a free port (0 picks one)`,
          cause: err,
        });
      }
      if (err.code === 'EACCES') {
        throw new UserError(`not allowed to listen on port ${port}`, { fix: 'use a port above 1023 in proxy.port' });
      }
      throw err;
    });
    const previous = this.server;
    this.server = server;
    this.bound = { host, port: (server.address() as AddressInfo).port };
    if (this.onHeld && !held) this.leftHeldSocket = true;
    this.onHeld = held === true;
    // The old listener stops accepting but lets its open connections finish.
    if (previous) previous.close();
    return this.bound;
  }

  /**
   * Serves on a listening socket handed over by the previous agent: both accept on it until
   * the old one stops, so no connection is refused while agents change.
   */
  async adopt(handle: object, bound: { host: string; port: number }): Promise<void> {
    const server = this.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(handle, () => {
        keepAccepting(server);
        resolve();
      });
    });
    this.server = server;
    this.bound = bound;
    // The handing-over agent gave this guardian the same socket to hold.
    this.onHeld = this.held?.host === bound.host && this.held.port === bound.port;
    if (this.onHeld) this.held = undefined;
  }

  /** The listening server, to hand over to the next agent. */
  handle(): Server | null {
    return this.server;
  }

  /**
   * After a handover: accept nothing new, answer the next request on each kept-alive connection
   * with `Connection: close` (its client reconnects, to the new agent, losing nothing), close
   * connections that stay idle, and resolve when all are gone or at the bound.
   */
  async drainAndClose(boundMs: number): Promise<void> {
    const server = this.server;
    if (!server) return;
    for (const engine of this.engines()) engine.startDraining();
    // Closing only stops accepting: idle connections get a moment to send their next request
    // (answered with close) before they are swept.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    let sweep: NodeJS.Timeout | undefined;
    const startSweep = setTimeout(() => (sweep = setInterval(() => this.closeIdle(), 250)), IDLE_GRACE_MS);
    await Promise.race([closed, new Promise((r) => setTimeout(r, boundMs))]);
    clearTimeout(startSweep);
    if (sweep) clearInterval(sweep);
    await this.tls?.close();
  }

  private closeIdle(): void {
    for (const engine of this.engines()) engine.closeIdleConnections();
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.bound = null;
    const tls = this.tls;
    this.tls = null;
    await tls?.close();
    if (!server) return;
    for (const engine of tls ? [this.plain, tls.proxy] : [this.plain]) engine.closeIdleConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * An engine that never listens itself still needs its timers (idle keep-alives, slow heads):
 * ProxyServer starts them on 'listening', which its acceptor, not it, would see.
 */
function startEngine(engine: ProxyServer): void {
  engine.emit('listening');
}

/** Accept failures (EMFILE: out of file descriptors) must not end the agent: log and go on. */
function keepAccepting(server: Server): void {
  server.on('error', (err) => console.error(`ccom proxy: accepting a connection failed: ${err.message}`));
}
