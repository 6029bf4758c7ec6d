import type { ServerResponse } from 'node:http';
import type { Upstream } from './types.js';

/** A response the proxy writes itself; `tag` goes in `x-ccom` so clients can tell it from the app's. */
export interface ProxyAnswer {
  status: number;
  body: string;
  tag: string;
}

export const NO_LIVE_RELEASE: ProxyAnswer = { status: 503, body: 'no live release\n', tag: 'no-upstream' };

/** Write a short text answer, or cut the connection if the app's response head already went out. */
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
  UND_ERR_SOCKET: 'the instance closed the connection before answering',
  UND_ERR_CONNECT_TIMEOUT: 'timed out connecting to the instance',
  UND_ERR_HEADERS_TIMEOUT: 'the instance did not answer in time',
  UND_ERR_BODY_TIMEOUT: 'the instance stopped sending its response',
  UND_ERR_CLOSED: 'the instance was removed from the proxy',
  UND_ERR_DESTROYED: 'the instance was removed from the proxy',
};

/** The error's code (ECONNREFUSED, UND_ERR_SOCKET, …), looking inside happy-eyeballs AggregateErrors. */
export function errorCode(err: Error): string | undefined {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  if (err instanceof AggregateError && err.errors[0] instanceof Error) return errorCode(err.errors[0]);
  return undefined;
}

/** The answer for a request no upstream could serve: 502, 504 on a timeout, 400 for a request undici refuses. */
export function upstreamFailure(err: Error, upstream: Upstream): ProxyAnswer {
  const code = errorCode(err);
  const where = `upstream ${upstream.id} at ${upstream.host}:${upstream.port}`;
  if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED') {
    return { status: 400, body: `bad request: cannot forward it (${err.message})\n`, tag: 'bad-request' };
  }
  const why = (code !== undefined ? EXPLANATIONS[code] : undefined) ?? err.message;
  const suffix = code !== undefined ? ` [${code}]` : '';
  if (code === 'UND_ERR_HEADERS_TIMEOUT') {
    return { status: 504, body: `gateway timeout: ${where}: ${why}${suffix}\n`, tag: 'upstream-timeout' };
  }
  return { status: 502, body: `bad gateway: ${where}: ${why}${suffix}\n`, tag: 'upstream-error' };
}

