import type { ClientConnection, ClientExchange, TunnelPeer } from './client-connection.js';
import { coarseClock } from './clock.js';
import { errorCode, proxyError, publicFailure } from './failure.js';
import type { FailureLog } from './failure-log.js';
import { framerFor, type BodyFramer } from './http1/body.js';
import { ChunkedFramer } from './http1/chunked.js';
import { HeadError, MAX_HEAD_BYTES, parseResponseHead, type ResponseHead } from './http1/head.js';
import { joinHead } from './http1/join.js';
import { isStaleKeepAlive, mayRetryElsewhere, REPLAY_LIMIT, type FailedAttempt } from './retry-policy.js';
import type { CompiledRelease } from './routing-table.js';
import type { UpstreamConnection, UpstreamUser } from './upstream-connection.js';
import type { UpstreamState } from './upstream-state.js';

/** Where an attempt goes: a release and one of its upstreams. */
export interface Target {
  release: CompiledRelease;
  upstream: UpstreamState;
}

/** Chooses where to retry after `failed` could not be reached; undefined when nowhere. */
export type RetryPicker = (failed: Target, tried: ReadonlySet<UpstreamState>) => Target | undefined;

/** What the router prepared for one request. */
export interface ExchangeRequest {
  method: string;
  /** The request target, for the agent log. */
  target: string;
  /** Request line and headers, ready for the wire (ends with the blank line). */
  head: string;
  /** An Upgrade (WebSocket) request: a 101 answer turns the exchange into a tunnel. */
  upgrade: boolean;
  /** A `set-cookie` value added to the response (sticky canary assignment), if any. */
  setCookie: string | undefined;
  /** Told the final status of a request on a business route (undefined for all others). */
  onStatus: ((release: string, status: number) => void) | undefined;
}

const HEAD_END = Buffer.from('\r\n\r\n');
/** Transfer-Encoding and Trailer header lines, dropped when a chunked body is sent decoded. */
const CHUNKED_FRAMING = /^(?:transfer-encoding|trailer):[^\r]*\r\n/gim;
const withoutChunkedFraming = (headers: string): string => headers.replace(CHUNKED_FRAMING, '');
const NO_BODY_STATUS = (status: number) => status === 204 || status === 304 || status < 200;

/**
 * One client request on its way through the proxy: sends it to an instance, streams the
 * response back, retries on another instance when the first never answered, and counts the
 * outcome for its release. Owns the upstream connection for the length of the exchange.
 */
export class Exchange implements ClientExchange, UpstreamUser, TunnelPeer {
  private conn: UpstreamConnection | null = null;
  private readonly startedAt = performance.now();
  /** Body bytes received so far, kept for a replay while within REPLAY_LIMIT (null past it). */
  private replay: Buffer[] | null = [];
  private replayBytes = 0;
  private requestDone = false;
  private responseBuf: Buffer | null = null;
  private response: ResponseHead | null = null;
  private responseBody: BodyFramer | null = null;
  private closeClient = false;
  /** The response is chunked and the client speaks HTTP/1.0: chunk data is sent decoded. */
  private decoding = false;
  private settled = false;
  private tunneling = false;
  private tried: Set<UpstreamState> | undefined;
  private attempts = 1;
  private staleRetried = false;
  /** The current attempt's connection had served earlier requests (it may have gone stale). */
  private connWasReused = false;

  constructor(
    private readonly client: ClientConnection,
    private readonly request: ExchangeRequest,
    private release: CompiledRelease,
    private upstream: UpstreamState,
    private readonly pickRetry: RetryPicker,
    private readonly failures: FailureLog,
  ) {}

  /** Sends the current attempt. The caller already counted the upstream as in flight. */
  start(fresh = false): void {
    this.release.stats.counters.requests++;
    const conn = this.upstream.pool.acquire(this, fresh);
    this.conn = conn;
    this.connWasReused = conn.reused;
    const replay = this.replay;
    if (replay === null || replay.length === 0) conn.write(this.request.head);
    else if (replay.length === 1) conn.write(joinHead(this.request.head, replay[0] as Buffer));
    else {
      conn.write(this.request.head);
      for (const chunk of replay) conn.write(chunk);
    }
  }

  // ── client side ──────────────────────────────────────────────────────────

  sendBody(chunk: Buffer): void {
    if (this.replay !== null) {
      this.replayBytes += chunk.length;
      if (this.replayBytes <= REPLAY_LIMIT) this.replay.push(chunk);
      else this.replay = null;
    }
    const conn = this.conn;
    if (conn !== null && !conn.write(chunk)) this.client.pauseForUpstream();
  }

  bodyDone(): void {
    this.requestDone = true;
  }

  clientClosed(): void {
    if (this.settled) return;
    const conn = this.conn;
    this.conn = null;
    if (conn !== null) this.upstream.pool.discard(conn);
    this.settle();
  }

  onClientDrain(): void {
    this.conn?.socket.resume();
  }

  // ── tunnel peer (client → instance, after a 101) ─────────────────────────

  write(chunk: Buffer): boolean {
    return this.conn?.write(chunk) ?? true;
  }

  end(): void {
    this.conn?.socket.end();
  }

  // ── upstream side ────────────────────────────────────────────────────────

  onUpstreamData(chunk: Buffer): void {
    if (this.tunneling) {
      if (!this.client.write(chunk)) this.conn?.socket.pause();
      return;
    }
    if (this.responseBody !== null) return this.forwardBody(chunk, 0);
    this.readHead(chunk);
  }

  onUpstreamEnd(): void {
    if (this.tunneling) return this.client.endTunnel();
    const body = this.responseBody;
    if (body?.untilClose === true) this.complete(false);
  }

  onUpstreamDrain(): void {
    this.client.resumeForUpstream();
  }

  onUpstreamClose(err: Error): void {
    this.conn = null;
    if (this.settled) return;
    if (this.tunneling) {
      this.settle();
      return this.client.destroy();
    }
    this.fail(err);
  }

  private readHead(chunk: Buffer): void {
    let buf = this.responseBuf === null ? chunk : Buffer.concat([this.responseBuf, chunk]);
    for (;;) {
      const end = buf.indexOf(HEAD_END);
      if (end === -1) {
        if (buf.length > MAX_HEAD_BYTES) return this.badResponse(new HeadError(502, 'response head larger than 16 KB'));
        this.responseBuf = buf;
        return;
      }
      let head: ResponseHead;
      try {
        head = parseResponseHead(buf.toString('latin1', 0, end));
      } catch (err) {
        return this.badResponse(err as HeadError);
      }
      const rest = end + 4;
      if (head.status === 101) return this.switchProtocols(head, buf.subarray(rest));
      if (head.status >= 100 && head.status < 200) {
        this.client.sendInterim(`${head.statusLine}\r\n${head.forwarded}\r\n`);
        buf = buf.subarray(rest);
        this.responseBuf = null;
        if (buf.length === 0) return;
        continue;
      }
      this.responseBuf = null;
      return this.startResponse(head, buf, rest);
    }
  }

  private startResponse(head: ResponseHead, buf: Buffer, bodyStart: number): void {
    this.response = head;
    const noBody = this.request.method === 'HEAD' || NO_BODY_STATUS(head.status);
    // An HTTP/1.0 client cannot read chunked: it gets the data alone, and the close ends it.
    this.decoding = head.chunked && !noBody && this.client.isHttp10;
    let body: BodyFramer;
    try {
      body = this.decoding ? new ChunkedFramer(502, (b, from, to) => this.writeDecoded(b, from, to)) : framerFor(head, { noBody, untilCloseIfUnframed: true, errorStatus: 502 });
    } catch (err) {
      return this.badResponse(err as HeadError);
    }
    this.responseBody = body;
    this.count(head.status);
    this.closeClient = this.client.mustClose() || body.untilClose || this.decoding;
    let text = `${head.statusLine}\r\n${this.decoding ? withoutChunkedFraming(head.forwarded) : head.forwarded}`;
    if (this.request.setCookie !== undefined) text += `set-cookie: ${this.request.setCookie}\r\n`;
    text += this.client.responseHeaders;
    if (this.closeClient) text += 'connection: close\r\n';
    else if (this.client.isHttp10) text += 'connection: keep-alive\r\n';
    text += '\r\n';
    if (this.decoding && !this.client.startResponse(text, null)) this.conn?.socket.pause();
    let n: number;
    try {
      n = body.take(buf, bodyStart);
    } catch {
      return this.midBodyFailure();
    }
    if (!this.decoding) {
      const first = n > 0 ? buf.subarray(bodyStart, bodyStart + n) : null;
      if (!this.client.startResponse(text, first)) this.conn?.socket.pause();
    }
    if (body.done) this.complete(bodyStart + n < buf.length);
  }

  private forwardBody(chunk: Buffer, start: number): void {
    const body = this.responseBody as BodyFramer;
    let n: number;
    try {
      n = body.take(chunk, start);
    } catch {
      return this.midBodyFailure();
    }
    if (n > 0 && !this.decoding && !this.client.write(n === chunk.length ? chunk : chunk.subarray(start, start + n))) this.conn?.socket.pause();
    if (body.done) this.complete(n < chunk.length);
  }

  /** Chunk data, decoded for an HTTP/1.0 client. */
  private writeDecoded(buf: Buffer, start: number, end: number): void {
    if (!this.client.write(buf.subarray(start, end))) this.conn?.socket.pause();
  }

  /** The response is complete; `extraBytes`: the instance sent more than the response. */
  private complete(extraBytes: boolean): void {
    if (this.settled) return;
    const conn = this.conn;
    this.conn = null;
    const response = this.response as ResponseHead;
    if (conn !== null) {
      const reusable = !extraBytes && this.requestDone && !response.close && this.responseBody?.untilClose !== true;
      if (reusable) this.upstream.pool.release(conn, response.keepAliveMs, coarseClock.now);
      else this.upstream.pool.discard(conn);
    }
    this.settle();
    this.client.finishResponse(this.closeClient);
  }

  /** A 101: the response head goes to the client, then bytes flow both ways untouched. */
  private switchProtocols(head: ResponseHead, early: Buffer): void {
    if (!this.request.upgrade || head.upgrade === undefined) {
      return this.badResponse(new HeadError(502, '101 Switching Protocols without an Upgrade request'));
    }
    this.response = head;
    this.count(101);
    this.tunneling = true;
    if (this.conn !== null) this.conn.tunnel = true;
    const text = `${head.statusLine}\r\n${head.forwarded}connection: upgrade\r\nupgrade: ${head.upgrade}\r\n\r\n`;
    this.client.startResponse(text, early.length > 0 ? early : null);
    this.client.startTunnel(this);
  }

  private count(status: number): void {
    const stats = this.release.stats;
    stats.latency.record(performance.now() - this.startedAt);
    const counters = stats.counters;
    if (status >= 500) counters.status5xx++;
    else if (status >= 400) counters.status4xx++;
    else if (status >= 300) counters.status3xx++;
    else counters.status2xx++;
    this.request.onStatus?.(this.release.id, status);
  }

  /** The instance answered with something that is not HTTP: never retried (it did answer). */
  private badResponse(err: HeadError): void {
    if (this.response !== null) return this.midBodyFailure();
    const conn = this.conn;
    this.conn = null;
    if (conn !== null) this.upstream.pool.discard(conn);
    this.release.stats.counters.connectionErrors++;
    this.settle();
    this.answerFailure(proxyError('CCOM_BAD_RESPONSE', err.message));
  }

  /** Mid-body failure: the only honest signal left is cutting the client's connection. */
  private midBodyFailure(): void {
    const conn = this.conn;
    this.conn = null;
    if (conn !== null) this.upstream.pool.discard(conn);
    this.release.stats.counters.connectionErrors++;
    this.settle();
    this.client.destroy();
  }

  /** The connection failed: retry where that is safe, else tell the client (or cut it). */
  private fail(err: Error): void {
    if (this.response !== null) return this.midBodyFailure();
    const attempt: FailedAttempt = {
      method: this.request.method,
      code: errorCode(err),
      replayable: this.replay !== null,
      answered: this.responseBuf !== null,
      attempts: this.attempts,
      connWasReused: this.connWasReused,
      staleRetried: this.staleRetried,
    };
    if (isStaleKeepAlive(attempt)) {
      this.staleRetried = true;
      this.release.stats.counters.requests--;
      this.client.resumeForUpstream();
      return this.start(true);
    }
    this.release.stats.counters.connectionErrors++;
    this.tried ??= new Set();
    this.tried.add(this.upstream);
    const next = mayRetryElsewhere(attempt) ? this.pickRetry({ release: this.release, upstream: this.upstream }, this.tried) : undefined;
    if (next === undefined) {
      this.settle();
      return this.answerFailure(err);
    }
    this.attempts++;
    next.upstream.begin();
    this.upstream.end();
    this.release = next.release;
    this.upstream = next.upstream;
    this.client.resumeForUpstream();
    this.start();
  }

  /** The client gets a 502/504 that names nothing behind the proxy; the agent log gets the detail. */
  private answerFailure(err: Error): void {
    const answer = publicFailure(err);
    this.failures.report(this.upstream.upstream, answer.status, this.request.method, this.request.target, err);
    this.client.answer(answer);
  }

  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    this.upstream.end();
  }
}
