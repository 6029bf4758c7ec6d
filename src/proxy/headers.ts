import type { IncomingMessage } from 'node:http';

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) plus the ones the proxy sets itself. `expect` is dropped
 * because node:http already answered `100-continue` and undici refuses to forward it.
 */
const REQUEST_DROP = new Set([
  'connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect',
  'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host',
]);
const RESPONSE_DROP = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function isProxyHeader(lower: string): boolean {
  return lower.length > 6 && lower.startsWith('proxy-');
}

/** What the proxy forwards upstream for one request, built in a single pass over rawHeaders. */
export interface ForwardHeaders {
  /** Flat [name, value, name, value, …] list, the shape undici's dispatch accepts without copying. */
  headers: string[];
  /** The request carries a body (a non-zero content-length or any transfer-encoding). */
  hasBody: boolean;
}

/** Filter the client's headers and add the x-forwarded-* trio. */
export function forwardRequestHeaders(req: IncomingMessage): ForwardHeaders {
  const raw = req.rawHeaders;
  const headers: string[] = [];
  let hasBody = false;
  let host: string | undefined;
  let forwardedFor: string | undefined;
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const lower = name.toLowerCase();
    if (REQUEST_DROP.has(lower)) {
      if (lower === 'transfer-encoding') hasBody = true;
      else if (lower === 'x-forwarded-for') forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
      else if (lower === 'connection' && !isPlainConnection(value)) connection = value;
      continue;
    }
    if (isProxyHeader(lower)) continue;
    if (lower === 'host') host = value;
    else if (lower === 'content-length' && value !== '0') hasBody = true;
    headers.push(name, value);
  }
  const forwarded = connection === undefined ? headers : dropConnectionTokens(headers, connection);
  const client = req.socket.remoteAddress ?? 'unknown';
  forwarded.push('x-forwarded-for', forwardedFor === undefined ? client : `${forwardedFor}, ${client}`);
  forwarded.push('x-forwarded-proto', 'http');
  if (host !== undefined) forwarded.push('x-forwarded-host', host);
  return { headers: forwarded, hasBody };
}

/** The common `Connection: keep-alive` / `close`, which names no other header to drop. */
function isPlainConnection(value: string): boolean {
  const lower = value.toLowerCase();
  return lower === 'keep-alive' || lower === 'close';
}

/** Lower-case header names a `Connection` header marks as hop-by-hop, beyond close/keep-alive. */
function connectionTokens(connection: string): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (const part of connection.split(',')) {
    const token = part.trim().toLowerCase();
    if (token === '' || token === 'close' || token === 'keep-alive') continue;
    (tokens ??= new Set()).add(token);
  }
  return tokens;
}

function dropConnectionTokens(headers: string[], connection: string): string[] {
  const tokens = connectionTokens(connection);
  if (tokens === undefined) return headers;
  const kept: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (!tokens.has(name.toLowerCase())) kept.push(name, headers[i + 1] as string);
  }
  return kept;
}

/**
 * Turn undici's raw response headers (Buffers) into the flat string list `res.writeHead` accepts,
 * minus hop-by-hop ones. latin1 keeps header bytes exactly as the upstream sent them.
 */
export function forwardResponseHeaders(raw: Buffer[]): string[] {
  const headers: string[] = [];
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as Buffer).toString('latin1');
    const lower = name.toLowerCase();
    if (RESPONSE_DROP.has(lower)) {
      if (lower === 'connection') {
        const value = (raw[i + 1] as Buffer).toString('latin1');
        if (!isPlainConnection(value)) connection = value;
      }
      continue;
    }
    if (isProxyHeader(lower)) continue;
    headers.push(name, (raw[i + 1] as Buffer).toString('latin1'));
  }
  return connection === undefined ? headers : dropConnectionTokens(headers, connection);
}
