import { proxyError } from './failure.js';
import type { Upstream } from './types.js';
import { UpstreamConnection, type UpstreamUser } from './upstream-connection.js';

/**
 * Idle connections kept per instance. Under many concurrent clients a burst of responses
 * completes before the next burst of requests arrives; with a small cap (nginx's `keepalive
 * 64`) most connections would be closed and opened again each round. Idle ones cost a file
 * descriptor each and are retired by the keep-alive timeout anyway.
 */
const MAX_IDLE = 1024;
/**
 * Without a `Keep-Alive: timeout` hint, close idle connections this soon: some servers (gunicorn)
 * drop theirs after 2 s, and reusing a connection the server is closing fails the request.
 */
const DEFAULT_IDLE_MS = 1_500;
/** Retire an idle connection this long before the upstream's announced timeout. */
const IDLE_MARGIN_MS = 1_000;
/** An instance that sends nothing for this long is given up on (undici's default too). */
const RESPONSE_TIMEOUT_MS = 300_000;

/**
 * Keep-alive connections to one instance: any number in use (one request each, so a slow
 * response never holds up another), up to MAX_IDLE kept for reuse, newest first.
 */
export class UpstreamPool {
  private idle: UpstreamConnection[] = [];
  private readonly all = new Set<UpstreamConnection>();
  private closing = false;
  private readonly forget = (conn: UpstreamConnection): void => {
    this.all.delete(conn);
    const at = this.idle.indexOf(conn);
    if (at !== -1) this.idle.splice(at, 1);
  };

  constructor(private readonly upstream: Upstream) {}

  /** A connection for `user`: the most recently used idle one, or a new one. */
  acquire(user: UpstreamUser, fresh = false): UpstreamConnection {
    let conn = fresh ? undefined : this.idle.pop();
    if (conn === undefined) {
      conn = new UpstreamConnection(this.upstream, this.forget);
      this.all.add(conn);
    }
    conn.user = user;
    return conn;
  }

  /** Back to the pool after a complete exchange; `keepAliveMs` is the upstream's hint. */
  release(conn: UpstreamConnection, keepAliveMs: number | undefined, now: number): void {
    conn.user = null;
    conn.reused = true;
    if (this.closing || this.idle.length >= MAX_IDLE || conn.socket.destroyed) return this.discard(conn);
    const idleMs = keepAliveMs === undefined ? DEFAULT_IDLE_MS : Math.max(0, keepAliveMs - IDLE_MARGIN_MS);
    if (idleMs === 0) return this.discard(conn);
    conn.idleUntil = now + idleMs;
    this.idle.push(conn);
  }

  /** Closes a connection that cannot be reused (its exchange was cut or is not complete). */
  discard(conn: UpstreamConnection): void {
    conn.user = null;
    conn.socket.destroy();
  }

  /** Closes idle connections past their keep-alive and fails ones whose instance went silent. */
  sweep(now: number): void {
    while (this.idle.length > 0 && (this.idle[0] as UpstreamConnection).idleUntil <= now) this.discard(this.idle.shift() as UpstreamConnection);
    for (const conn of this.idle) if (conn.idleUntil <= now) this.discard(conn);
    for (const conn of this.all) {
      if (conn.user !== null && !conn.tunnel && now - conn.lastActive > RESPONSE_TIMEOUT_MS) {
        conn.fail(proxyError('CCOM_RESPONSE_TIMEOUT', `the instance sent nothing for ${RESPONSE_TIMEOUT_MS / 1000} s`));
      }
    }
  }

  /** Closes idle connections now and each busy one when its exchange completes. */
  close(): void {
    this.closing = true;
    for (const conn of [...this.idle]) this.discard(conn);
  }

  /** Cuts every connection, busy ones included: their exchanges fail with `code`. */
  destroy(): void {
    this.close();
    for (const conn of [...this.all]) conn.fail(proxyError('CCOM_UPSTREAM_REMOVED', 'the instance was removed from the proxy'));
  }
}
