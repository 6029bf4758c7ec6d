import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { forwardResponseHeaders } from './headers.js';
import { errorCode, respondText, upstreamFailure } from './failure.js';
import type { CompiledRelease } from './routing-table.js';
import type { UpstreamState } from './upstream-state.js';

/** Where an attempt goes: a release and one of its upstreams. */
export interface Target {
  release: CompiledRelease;
  upstream: UpstreamState;
}

/** Chooses where to retry after `failed` could not be reached; undefined when nowhere. */
export type RetryPicker = (failed: Target, tried: ReadonlySet<UpstreamState>) => Target | undefined;

/**
 * Attempts per request. Instances that die together (a crashing release, a killed host) can
 * make the first retry fail too; a third attempt goes elsewhere (another release if need be).
 */
const MAX_ATTEMPTS = 3;

function uncork(socket: NodeJS.WritableStream & { uncork(): void }): void {
  socket.uncork();
}

/** Safe to send twice (RFC 9110 §9.2.2), so a request the upstream may have seen can be retried. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** Transport failures that mean the upstream never answered: the instance is gone or going. */
const CONNECTION_FAILURES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED',
]);

/**
 * One client request on its way through the proxy, and the undici dispatch handler of its
 * current attempt. Uses undici's raw handler callbacks (onHeaders gets Buffers): the newer
 * controller API parses every response's headers into an object first, which a proxy never needs.
 */
export class Exchange implements Dispatcher.DispatchHandler {
  private abortUpstream: ((err?: Error) => void) | undefined;
  private resumeUpstream: (() => void) | undefined;
  /** Upstream sent its final response head: from here on a failure cannot be retried. */
  private gotResponse = false;
  /** Current attempt is over (completed or failed); its upstream is no longer in flight. */
  private settled = false;
  private clientGone = false;
  private retried = false;
  /** Upstreams this request already failed on (allocated only when a retry happens). */
  private tried: Set<UpstreamState> | undefined;
  private attempts = 1;
  private drainHooked = false;
  private release: CompiledRelease;
  private upstream: UpstreamState;
  private readonly startedAt = performance.now();

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly path: string,
    private readonly headers: string[],
    private readonly hasBody: boolean,
    release: CompiledRelease,
    upstream: UpstreamState,
    private readonly pickRetry: RetryPicker,
    /** A `set-cookie` value added to the response (sticky canary assignment), if any. */
    private readonly setCookie?: string,
    /** Told the final status of a request on a business route (undefined for all others). */
    private readonly onStatus?: (release: string, status: number) => void,
  ) {
    this.release = release;
    this.upstream = upstream;
    res.once('close', this.onClientClose);
  }

  /** Send the current attempt. The caller already counted the upstream as in flight. */
  start(): void {
    this.release.stats.counters.requests++;
    this.upstream.pool.dispatch(
      { method: this.req.method ?? 'GET', path: this.path, headers: this.headers, body: this.hasBody ? this.req : null },
      this,
    );
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.clientGone) abort(new Error('client closed the connection'));
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // interim 1xx: the final head follows
    this.gotResponse = true;
    this.resumeUpstream = resume;
    const stats = this.release.stats;
    stats.latency.record(performance.now() - this.startedAt);
    const counters = stats.counters;
    if (statusCode >= 500) counters.status5xx++;
    else if (statusCode >= 400) counters.status4xx++;
    else if (statusCode >= 300) counters.status3xx++;
    else counters.status2xx++;
    this.onStatus?.(this.release.id, statusCode);
    if (this.clientGone) return true;
    try {
      const headers = forwardResponseHeaders(rawHeaders);
      if (this.setCookie !== undefined) headers.push('set-cookie', this.setCookie);
      this.res.writeHead(statusCode, headers);
      // Head, body and end of a small response usually arrive in one upstream read: corking until
      // the next tick sends them to the client in one write instead of two or three.
      const socket = this.res.socket;
      if (socket && !socket.writableCorked) {
        socket.cork();
        process.nextTick(uncork, socket);
      }
    } catch (err) {
      // node:http rejects a header value undici let through; the head was not sent, so say so.
      // Never retry: the upstream did answer, just not in a form we can pass on.
      this.gotResponse = false;
      this.retried = true;
      this.abortUpstream?.(err as Error);
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    if (!this.drainHooked) {
      this.drainHooked = true;
      this.res.on('drain', this.onClientDrain);
    }
    return false;
  }

  onComplete(): void {
    this.settle();
    this.res.end();
  }

  onError(err: Error): void {
    if (this.settled) return;
    if (!this.clientAlive()) return this.settle();
    this.release.stats.counters.connectionErrors++;
    if (this.gotResponse || this.res.headersSent) {
      // Mid-body failure: the only honest signal left is cutting the client's connection.
      this.settle();
      this.res.destroy();
      return;
    }
    const failed: Target = { release: this.release, upstream: this.upstream };
    this.tried ??= new Set();
    this.tried.add(this.upstream);
    const next = this.canRetry(err) ? this.pickRetry(failed, this.tried) : undefined;
    if (next === undefined) {
      this.settle();
      respondText(this.res, upstreamFailure(err, this.upstream.upstream));
      return;
    }
    this.attempts++;
    next.upstream.begin();
    this.upstream.end();
    this.release = next.release;
    this.upstream = next.upstream;
    this.abortUpstream = undefined;
    this.start();
  }

  private canRetry(err: Error): boolean {
    if (this.retried || this.attempts >= MAX_ATTEMPTS || !IDEMPOTENT.has(this.req.method ?? '')) return false;
    if (this.hasBody && (this.req.readableDidRead || this.req.destroyed)) return false;
    const code = errorCode(err);
    return code !== undefined && CONNECTION_FAILURES.has(code);
  }

  /** The close event may trail the upload error that tells undici the client left. */
  private clientAlive(): boolean {
    return !this.clientGone && !this.req.socket.destroyed;
  }

  private settle(): void {
    this.settled = true;
    this.upstream.end();
  }

  private readonly onClientClose = (): void => {
    if (this.settled) return;
    this.clientGone = true;
    this.abortUpstream?.(new Error('client closed the connection'));
  };

  private readonly onClientDrain = (): void => {
    this.resumeUpstream?.();
  };
}
