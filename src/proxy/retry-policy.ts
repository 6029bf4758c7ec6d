/**
 * When a request whose attempt failed may be sent again, and where. Retrying is what makes a
 * crash or a removed instance invisible to users; retrying wrongly sends a payment twice.
 */

/**
 * Attempts per request. Instances that die together (a crashing release, a killed host) can
 * make the first retry fail too; a third attempt goes elsewhere (another release if need be).
 */
export const MAX_ATTEMPTS = 3;
/** Request bodies up to this size are kept so a failed attempt can be replayed elsewhere. */
export const REPLAY_LIMIT = 64 * 1024;

/** Safe to send twice (RFC 9110 §9.2.2), so a request the upstream may have seen can be retried. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** Transport failures that mean the upstream never answered: the instance is gone or going. */
const CONNECTION_FAILURES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL',
  'CCOM_UPSTREAM_CLOSED', 'CCOM_CONNECT_TIMEOUT', 'CCOM_UPSTREAM_REMOVED',
]);
/** Failures that prove the request never reached the instance, so even a POST may go elsewhere. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'CCOM_CONNECT_TIMEOUT']);
/** How a kept-alive connection the instance closed while idle fails a request written to it. */
const STALE = new Set(['ECONNRESET', 'EPIPE', 'CCOM_UPSTREAM_CLOSED']);

/** What is known about an attempt that failed before the response head was complete. */
export interface FailedAttempt {
  method: string;
  /** The failure's code (ECONNREFUSED, CCOM_…), if it has one. */
  code: string | undefined;
  /** The request body is still held for a replay (or there was none). */
  replayable: boolean;
  /** Some bytes of a response arrived: the instance did start to answer. */
  answered: boolean;
  attempts: number;
  /** The connection had carried earlier requests, so it may have been closed while idle. */
  connWasReused: boolean;
  /** A stale connection was already replaced once for this request. */
  staleRetried: boolean;
}

/**
 * A kept-alive connection the instance had just closed: the request goes again to the same
 * instance on a fresh connection, and the instance is not blamed.
 */
export function isStaleKeepAlive(f: FailedAttempt): boolean {
  return !f.staleRetried && f.connWasReused && f.replayable && !f.answered && IDEMPOTENT.has(f.method) && f.code !== undefined && STALE.has(f.code);
}

/** The request may go to another instance: it never reached this one, or sending it twice is safe. */
export function mayRetryElsewhere(f: FailedAttempt): boolean {
  if (f.attempts >= MAX_ATTEMPTS || !f.replayable || f.answered || f.code === undefined || !CONNECTION_FAILURES.has(f.code)) return false;
  return IDEMPOTENT.has(f.method) || NEVER_SENT.has(f.code);
}
