import type { Socket } from 'node:net';
import { coarseClock } from './clock.js';
import { rewrapWithDirectReads } from './direct-reads.js';
import { answerHead, type ProxyAnswer } from './failure.js';
import { framerFor, type BodyFramer } from './http1/body.js';
import { HeadError, MAX_HEAD_BYTES, parseRequestHead, type RequestHead } from './http1/head.js';
import { joinHead } from './http1/join.js';

/** The exchange serving the connection's current request, as the connection sees it. */
export interface ClientExchange {
  sendBody(chunk: Buffer): void;
  bodyDone(): void;
  /** The client went away (or sent something unforwardable) before the response was complete. */
  clientClosed(): void;
  onClientDrain(): void;
}

/** Where a request goes: answers it itself (returns null) or starts an exchange for it. */
export interface RequestDispatcher {
  dispatch(client: ClientConnection, head: RequestHead): ClientExchange | null;
}

/** The other end of an Upgrade tunnel (a WebSocket's connection to the instance). */
export interface TunnelPeer {
  write(chunk: Buffer): boolean;
  end(): void;
}

/** What a connection needs from its server: whether it is draining, and to be forgotten. */
export interface ConnectionHost {
  readonly draining: boolean;
  forget(conn: ClientConnection): void;
}

const HEAD_END = Buffer.from('\r\n\r\n');
/** Bodies up to this size are copied behind their head; larger ones are written beside it. */
const JOIN_LIMIT = 8 * 1024;

/**
 * One client connection to the public port: reads request heads, hands each request to an
 * exchange, streams the body to it, and takes the next request once the response is done
 * (pipelined requests wait, unread, in the kernel and in `pending`). Listeners are installed
 * once per connection; a request allocates only its head and its exchange.
 */
export class ClientConnection {
  readonly remoteAddress: string;
  /** Header lines added to every response from an instance (HTTPS: Strict-Transport-Security). */
  responseHeaders = '';
  /** Bytes received and not yet handled: a partial head, or pipelined requests. */
  private pending: Buffer | null = null;
  private scanFrom = 0;
  private exchange: ClientExchange | null = null;
  /** The current request's body, while some of it is still to come. */
  private body: BodyFramer | null = null;
  private request: RequestHead | null = null;
  private responseStarted = false;
  private ended = false;
  private closed = false;
  private pausedForUpstream = false;
  private pausedForPipeline = false;
  private tunnel: TunnelPeer | null = null;
  /** Inside dispatch(): an answer given synchronously must not re-enter parseNext. */
  private dispatching = false;
  lastActive = coarseClock.now;
  /** When the head being received started to arrive (a slow head is cut off from here). */
  headStartedAt = coarseClock.now;
  /** When the proxy closed its side (0: it has not); a client that never closes is cut. */
  endedAt = 0;

  readonly socket: Socket;

  constructor(
    accepted: Socket,
    private readonly dispatcher: RequestDispatcher,
    private readonly host: ConnectionHost,
  ) {
    const onData = (chunk: Buffer): void => {
      try {
        this.onData(chunk);
      } catch (err) {
        this.internalError(err);
      }
    };
    // A plain TCP connection is re-wrapped to read through `onread`; TLS sockets (and the few
    // the shared-port front has read from) keep their stream reads.
    const direct = rewrapWithDirectReads(accepted, onData);
    const socket = direct ?? accepted;
    this.socket = socket;
    this.remoteAddress = socket.remoteAddress ?? 'unknown';
    socket.setNoDelay(true);
    if (direct === null) socket.on('data', onData);
    socket.on('end', () => this.onEnd());
    socket.on('drain', () => this.exchange?.onClientDrain());
    socket.on('error', () => undefined); // 'close' follows and does the cleanup
    socket.on('close', () => this.onClose());
  }

  /** Waiting for a request, nothing half-received: safe to close without losing anything. */
  get idle(): boolean {
    return this.exchange === null && this.tunnel === null && this.pending === null && !this.closed;
  }

  /** Holding a partial head (or an idle connection) since `lastActive`. */
  get waitingForHead(): boolean {
    return this.exchange === null && this.tunnel === null && !this.closed;
  }

  get hasPartialHead(): boolean {
    return this.pending !== null;
  }

  /**
   * Waiting for more of the current request's body from the client since `lastActive`. Not
   * while the proxy itself holds the client back because the instance reads slowly.
   */
  get waitingForBody(): boolean {
    return this.body !== null && !this.pausedForUpstream && !this.closed;
  }

  private onData(chunk: Buffer): void {
    this.lastActive = coarseClock.now;
    if (this.tunnel !== null) {
      if (!this.tunnel.write(chunk)) this.pauseForUpstream();
      return;
    }
    if (this.body !== null) return this.feedBody(chunk, 0);
    if (this.exchange !== null || this.responseStarted) return this.stash(chunk);
    if (this.pending === null) {
      this.pending = chunk;
      this.headStartedAt = this.lastActive;
    } else this.pending = Buffer.concat([this.pending, chunk]);
    this.parseNext();
  }

  /** Body bytes of the current request from `buf[start…]`; what follows is the next request. */
  private feedBody(buf: Buffer, start: number): void {
    const body = this.body as BodyFramer;
    let n: number;
    try {
      n = body.take(buf, start);
    } catch (err) {
      return this.refuse(err as HeadError);
    }
    if (n > 0) this.exchange?.sendBody(start === 0 && n === buf.length ? buf : buf.subarray(start, start + n));
    if (body.done) {
      this.body = null;
      this.exchange?.bodyDone();
    }
    if (start + n < buf.length) this.stash(buf.subarray(start + n));
  }

  /** Keeps bytes of a pipelined request until the current response is done; stops reading more. */
  private stash(chunk: Buffer): void {
    this.pending = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    if (!this.pausedForPipeline) {
      this.pausedForPipeline = true;
      this.socket.pause();
    }
  }

  /** Parses and dispatches requests from `pending` until one is in flight or a head is partial. */
  private parseNext(): void {
    while (this.pending !== null && this.exchange === null && !this.responseStarted && !this.closed) {
      let buf = this.pending;
      // RFC 9112 §2.2: empty lines before a request line are ignored.
      let skip = 0;
      while (buf[skip] === 0x0d && buf[skip + 1] === 0x0a) skip += 2;
      if (skip > 0) {
        buf = buf.subarray(skip);
        this.scanFrom = Math.max(0, this.scanFrom - skip);
        this.pending = buf.length > 0 ? buf : null;
        if (this.pending === null) break;
      }
      const end = buf.indexOf(HEAD_END, this.scanFrom);
      if (end === -1) {
        if (buf.length > MAX_HEAD_BYTES) return this.refuse(new HeadError(431, 'request head larger than 16 KB'));
        this.scanFrom = Math.max(0, buf.length - 3);
        break;
      }
      if (end > MAX_HEAD_BYTES) return this.refuse(new HeadError(431, 'request head larger than 16 KB'));
      this.scanFrom = 0;
      const rest = end + 4;
      this.pending = rest < buf.length ? buf.subarray(rest) : null;
      let head: RequestHead;
      let body: BodyFramer;
      try {
        head = parseRequestHead(buf.toString('latin1', 0, end));
        body = framerFor(head, { noBody: false, untilCloseIfUnframed: false, errorStatus: 400 });
      } catch (err) {
        return this.refuse(err as HeadError);
      }
      this.request = head;
      this.body = body.done ? null : body;
      this.dispatching = true;
      this.exchange = this.dispatcher.dispatch(this, head);
      this.dispatching = false;
      if (this.closed) return;
      if (this.exchange === null) continue; // answered at once (and the body was empty, or it closed)
      if (this.body !== null && this.pending !== null) {
        const next = this.pending;
        this.pending = null;
        this.feedBody(next, 0);
      } else if (this.body === null) {
        this.exchange.bodyDone();
      }
    }
    this.resumeIfClear();
  }

  /** The response must close the connection: asked for, draining, or the request not fully read. */
  mustClose(): boolean {
    const request = this.request;
    return request === null || request.close || request.upgrade !== undefined || this.host.draining || this.body !== null || this.ended;
  }

  /** An HTTP/1.0 client: told when the connection stays open, and never sent chunked bodies. */
  get isHttp10(): boolean {
    return this.request?.minor === 0;
  }

  /**
   * Writes a response head and the body bytes that came with it, in one write: a small body is
   * copied behind the head, a large one goes out in the same writev rather than copied.
   */
  startResponse(head: string, body: Buffer | null): boolean {
    this.responseStarted = true;
    if (body === null) return this.socket.write(head, 'latin1');
    if (body.length <= JOIN_LIMIT) return this.socket.write(joinHead(head, body));
    this.socket.cork();
    this.socket.write(head, 'latin1');
    const more = this.socket.write(body);
    this.socket.uncork();
    return more;
  }

  /** Interim (1xx) responses go to HTTP/1.1 clients only. */
  sendInterim(head: string): void {
    if (this.request?.minor === 1) this.socket.write(head, 'latin1');
  }

  write(chunk: Buffer): boolean {
    return this.socket.write(chunk);
  }

  /** Answers the current request itself (an error, or no release to send it to). */
  answer(answer: ProxyAnswer): void {
    if (this.responseStarted) return this.destroy();
    const close = this.mustClose();
    const head = answerHead(answer, { close, keepAliveHeader: this.isHttp10, omitBody: this.request?.method === 'HEAD' });
    this.responseStarted = true;
    this.socket.write(head);
    this.finishResponse(close);
  }

  /** The response is complete: close, or go on with the next request. */
  finishResponse(close: boolean): void {
    this.exchange = null;
    this.responseStarted = false;
    this.lastActive = coarseClock.now;
    this.headStartedAt = this.lastActive;
    if (close || this.ended) return this.endSocket();
    this.request = null;
    this.pausedForUpstream = false;
    if (!this.dispatching) this.parseNext();
  }

  /** From now on bytes flow both ways unparsed (after a 101 Switching Protocols). */
  startTunnel(peer: TunnelPeer): void {
    this.tunnel = peer;
    this.responseStarted = true;
    const early = this.pending;
    this.pending = null;
    if (early !== null && !peer.write(early)) this.pauseForUpstream();
    this.pausedForPipeline = false;
    if (this.ended) peer.end();
    this.resumeIfClear();
  }

  endTunnel(): void {
    this.closed = true;
    this.socket.end();
  }

  pauseForUpstream(): void {
    if (this.pausedForUpstream) return;
    this.pausedForUpstream = true;
    this.socket.pause();
  }

  resumeForUpstream(): void {
    // The client was held back meanwhile: its body's idle time starts again now.
    if (this.pausedForUpstream) this.lastActive = coarseClock.now;
    this.pausedForUpstream = false;
    this.resumeIfClear();
  }

  private resumeIfClear(): void {
    if (this.pausedForUpstream || this.closed) return;
    if (this.pending !== null && (this.exchange !== null || this.responseStarted)) return;
    if (this.pausedForPipeline || this.socket.isPaused()) {
      this.pausedForPipeline = false;
      this.socket.resume();
    }
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }

  /** Closes the connection when it is between requests; true when it did. */
  closeIfIdle(): boolean {
    if (!this.idle) return false;
    this.endSocket();
    return true;
  }

  /** Sends FIN after `last`; the sweep destroys the socket should the client never close its side. */
  private endSocket(last?: string): void {
    this.closed = true;
    this.endedAt = coarseClock.now;
    if (last === undefined) this.socket.end();
    else this.socket.end(last);
  }

  /** Everything written has gone to the kernel. */
  get flushed(): boolean {
    return this.socket.writableLength === 0;
  }

  /** A bug met on this connection costs this connection, never the agent and its other clients. */
  private internalError(err: unknown): void {
    console.error(`ccom proxy: internal error, connection from ${this.remoteAddress} closed:`, err);
    const exchange = this.exchange;
    this.exchange = null;
    try {
      exchange?.clientClosed();
    } finally {
      if (this.responseStarted) this.destroy();
      else this.refuse(new HeadError(500, 'proxy error: see the agent log'));
    }
  }

  /** The client took too long to send a head: 408, then close. */
  timeOutHead(): void {
    this.refuse(new HeadError(408, 'request head not received in time'));
  }

  /**
   * The client stopped sending its request body: 408 and close when no response has started
   * (the instance's half-received request is discarded with its connection), else a cut. Either
   * way both sockets are freed.
   */
  timeOutBody(): void {
    this.refuse(new HeadError(408, 'request body not received in time'));
  }

  /** A request the proxy cannot read: say why (when no response started) and close. */
  private refuse(err: HeadError): void {
    const status = err instanceof HeadError ? err.status : 400;
    this.pending = null;
    this.body = null;
    if (this.responseStarted || this.exchange !== null) {
      this.exchange?.clientClosed();
      this.exchange = null;
      if (this.responseStarted) return this.destroy();
    }
    this.responseStarted = true;
    const answer = { status, body: `${err.message}\n`, tag: 'bad-request', headers: err.headers };
    this.endSocket(answerHead(answer, { close: true, keepAliveHeader: false, omitBody: false }));
  }

  /**
   * The client sent FIN. Between requests that closes the connection; during one it means the
   * client gave up (browsers and HTTP clients never half-close), so the exchange is aborted,
   * as node:http and nginx do. A tunnel passes the half-close on.
   */
  private onEnd(): void {
    this.ended = true;
    if (this.tunnel !== null) return this.tunnel.end();
    const exchange = this.exchange;
    this.exchange = null;
    if (exchange !== null || this.responseStarted) {
      exchange?.clientClosed();
      return this.destroy();
    }
    this.endSocket();
  }

  private onClose(): void {
    this.closed = true;
    this.host.forget(this);
    const exchange = this.exchange;
    this.exchange = null;
    exchange?.clientClosed();
  }
}
