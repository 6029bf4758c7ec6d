import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Upstream } from './types.js';

/** A response the proxy writes itself; `tag` goes in `x-ccom` so clients can tell it from the app's. */
export interface ProxyAnswer {
  status: number;
  body: string;
  tag: string;
  /** Header lines (each ending in CRLF) the answer must carry, e.g. a 405's `allow`. */
  headers?: string;
}

export const NO_LIVE_RELEASE: ProxyAnswer = { status: 503, body: 'no live release\n', tag: 'no-upstream' };

/** An error with one of the proxy's own codes (CCOM_…), next to the system's (ECONNREFUSED, …). */
export function proxyError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** The raw bytes of an answer, for the proxy's own connections. */
export function answerHead(answer: ProxyAnswer, options: { close: boolean; keepAliveHeader: boolean; omitBody: boolean }): string {
  const connection = options.close ? 'connection: close\r\n' : options.keepAliveHeader ? 'connection: keep-alive\r\n' : '';
  return (
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? 'Error'}\r\n` +
    'content-type: text/plain; charset=utf-8\r\n' +
    `content-length: ${Buffer.byteLength(answer.body)}\r\n` +
    `cache-control: no-store\r\nx-ccom: ${answer.tag}\r\n${answer.headers ?? ''}${connection}\r\n` +
    (options.omitBody ? '' : answer.body)
  );
}

/** Write a short text answer through node:http, or cut the connection if a head already went out. */
export function respondText(res: ServerResponse, answer: ProxyAnswer): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(answer.status, [
    'content-type', 'text/plain; charset=utf-8',
    'content-length', String(Buffer.byteLength(answer.body)),
    'cache-control', 'no-store',
    'x-ccom', answer.tag,
  ]);
  res.end(answer.body);
}

/** Words for the codes a user is likely to see, so the 502 body says what went wrong. */
const EXPLANATIONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (the instance is not listening)',
  ECONNRESET: 'connection reset by the instance',
  EPIPE: 'the instance closed the connection while the request was sent',
  CCOM_UPSTREAM_CLOSED: 'the instance closed the connection before answering',
  CCOM_CONNECT_TIMEOUT: 'timed out connecting to the instance',
  CCOM_RESPONSE_TIMEOUT: 'the instance did not answer in time',
  CCOM_UPSTREAM_REMOVED: 'the instance was removed from the proxy',
  CCOM_BAD_RESPONSE: 'the instance sent a malformed response',
};

/** The error's code (ECONNREFUSED, CCOM_…), looking inside happy-eyeballs AggregateErrors. */
export function errorCode(err: Error): string | undefined {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  if (err instanceof AggregateError && err.errors[0] instanceof Error) return errorCode(err.errors[0]);
  return undefined;
}

/**
 * What went wrong, naming the instance and its address: for the agent log, and for previews,
 * which only the operator reaches (through the control socket).
 */
export function failureDetail(err: Error, upstream: Upstream): string {
  const code = errorCode(err);
  const why = (code !== undefined ? EXPLANATIONS[code] : undefined) ?? err.message;
  const detail = code === 'CCOM_BAD_RESPONSE' ? ` (${err.message})` : '';
  const suffix = code !== undefined ? ` [${code}]` : '';
  return `upstream ${upstream.id} at ${upstream.host}:${upstream.port}: ${why}${detail}${suffix}`;
}

const isTimeout = (err: Error): boolean => errorCode(err) === 'CCOM_RESPONSE_TIMEOUT';

/** A preview no instance could serve: 502, or 504 when the instance went silent, with the detail. */
export function upstreamFailure(err: Error, upstream: Upstream): ProxyAnswer {
  const detail = failureDetail(err, upstream);
  if (isTimeout(err)) return { status: 504, body: `gateway timeout: ${detail}\n`, tag: 'upstream-timeout' };
  return { status: 502, body: `bad gateway: ${detail}\n`, tag: 'upstream-error' };
}

const PUBLIC_BAD_GATEWAY: ProxyAnswer = { status: 502, body: 'bad gateway: the app could not answer this request\n', tag: 'upstream-error' };
const PUBLIC_GATEWAY_TIMEOUT: ProxyAnswer = { status: 504, body: 'gateway timeout: the app did not answer in time\n', tag: 'upstream-timeout' };

/**
 * The same failure told to a client on the public port: no instance, address or port (they
 * would show an attacker the layout behind the proxy). The detail goes to the agent log.
 */
export function publicFailure(err: Error): ProxyAnswer {
  return isTimeout(err) ? PUBLIC_GATEWAY_TIMEOUT : PUBLIC_BAD_GATEWAY;
}
