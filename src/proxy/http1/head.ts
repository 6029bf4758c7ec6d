/**
 * HTTP/1.x message heads, parsed only as far as a proxy must: the start line, how the body is
 * framed, whether the connection stays open, and the few headers the router reads. Everything
 * else is passed on byte for byte. Parsing is strict where lenient parsers enable request
 * smuggling (RFC 9112 §6.3, §11.2): bare CR or LF, obs-fold, a space before the colon, conflicting
 * Content-Length, Content-Length with Transfer-Encoding, a Transfer-Encoding not ending in
 * chunked (or chunked twice, or in HTTP/1.0), and a request whose Connection names a header the
 * proxy frames or routes by are all refused. A request goes upstream with the proxy's own
 * framing header, never the client's.
 */

import { connectionTokens, joinKept, namesHeaders, refuseProtectedTokens } from './connection-header.js';
import { keptLines, readFields, REQUEST_DROP, RESPONSE_DROP, type Fields } from './fields.js';
import { HeadError } from './head-error.js';

export { HeadError } from './head-error.js';

/** Larger heads are refused with 431, like node:http's default limit. */
export const MAX_HEAD_BYTES = 16 * 1024;

/** A CR not followed by LF, an LF not preceded by CR, or another control character but HTAB. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const BAD_LINE_BREAK = /\r(?!\n)|(?<!\r)\n|[\0-\x08\x0b\x0c\x0e-\x1f\x7f]/;
/** Method, then a target of visible ASCII only (RFC 9112 §3.2), then the version. */
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([!-~]+) HTTP\/1\.([01])$/;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: [^\r\n]*)?$/;
const KEEP_ALIVE_TIMEOUT = /(?:^|[\s,;])timeout\s*=\s*(\d+)/i;
/** What a 405 to CONNECT lists: the methods of RFC 9110 the proxy passes on (the app decides). */
const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE';

/** What both kinds of head share: framing, connection semantics and the headers to forward. */
interface HeadBase {
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: 0 | 1;
  /** Declared body length, or -1 when there is no Content-Length. */
  contentLength: number;
  chunked: boolean;
  /** The sender's Connection header asked to close (or HTTP/1.0 without keep-alive). */
  close: boolean;
  /** The Upgrade header's protocols when `Connection: upgrade` asks for them, else undefined. */
  upgrade: string | undefined;
  /**
   * Header lines to forward, each ending in CRLF, hop-by-hop ones removed. A request's end with
   * the proxy's own Content-Length or Transfer-Encoding: the body is sent as the proxy framed it.
   */
  forwarded: string;
}

export interface RequestHead extends HeadBase {
  method: string;
  target: string;
  host: string | undefined;
  cookie: string | undefined;
  /** Earlier proxies' X-Forwarded-For, extended (not replaced) by this one. */
  forwardedFor: string | undefined;
  /** Earlier proxies' X-Forwarded-Proto and -Host: kept only from a proxy on this machine. */
  forwardedProto: string | undefined;
  forwardedHost: string | undefined;
}

export interface ResponseHead extends HeadBase {
  status: number;
  /** The status line as received, e.g. `HTTP/1.1 200 OK`. */
  statusLine: string;
  /** From `Keep-Alive: timeout=N`: how long the upstream keeps an idle connection, in ms. */
  keepAliveMs: number | undefined;
}

/** The start line, and where the header lines begin. */
function startLine(head: string): { line: string; fieldsFrom: number } {
  const lineEnd = head.indexOf('\r\n');
  return lineEnd === -1 ? { line: head, fieldsFrom: head.length } : { line: head.slice(0, lineEnd), fieldsFrom: lineEnd + 2 };
}

/** The sender asked to close (or spoke HTTP/1.0 without keep-alive). */
function asksToClose(minor: 0 | 1, tokens: ReadonlySet<string>): boolean {
  return tokens.has('close') || (minor === 0 && !tokens.has('keep-alive'));
}

/** The header lines to pass on: the kept ones, minus those the Connection header names (rare). */
function forwardedLines(head: string, fieldsFrom: number, fields: Fields, tokens: ReadonlySet<string>, drop: ReadonlySet<string>): string {
  return namesHeaders(tokens) ? joinKept(keptLines(head, fieldsFrom, drop), tokens) : fields.kept;
}

/** The proxy's own framing header for a request body, as the proxy frames it. */
function requestFraming(fields: Fields): string {
  if (fields.chunked) return 'transfer-encoding: chunked\r\n';
  return fields.contentLength === -1 ? '' : `content-length: ${fields.contentLength}\r\n`;
}

function checkLineBreaks(head: string, status: number): void {
  if (BAD_LINE_BREAK.test(head)) throw new HeadError(status, 'bare CR or LF, or a control character, in the head');
}

/** Parses a request head: `head` is the latin1 text up to, not including, the blank line. */
export function parseRequestHead(head: string): RequestHead {
  checkLineBreaks(head, 400);
  const { line: requestLine, fieldsFrom } = startLine(head);
  const match = REQUEST_LINE.exec(requestLine);
  if (match === null) {
    if (/^[!-~]+ [!-~]+ HTTP\/\d(?:\.\d)?$/.test(requestLine)) throw new HeadError(505, `HTTP version not supported: ${JSON.stringify(requestLine.slice(0, 80))}`);
    throw new HeadError(400, `malformed request line: ${JSON.stringify(requestLine.slice(0, 80))}`);
  }
  const minor = match[3] === '1' ? 1 : 0;
  const method = match[1] as string;
  if (method === 'CONNECT') {
    throw new HeadError(405, 'CONNECT is not served here: this is the app\'s address, not a forward proxy', `allow: ${ALLOWED_METHODS}\r\n`);
  }
  const fields = readFields(head, fieldsFrom, minor, REQUEST_DROP, 400);
  if (minor === 1 && fields.host === undefined) throw new HeadError(400, 'HTTP/1.1 request without a Host header');
  const tokens = connectionTokens(fields.connection);
  if (tokens.size > 0) refuseProtectedTokens(tokens);
  // One object literal with every field, in one order: heads of all requests share one hidden
  // class, so the router's and exchange's reads of them stay monomorphic (a spread built a new
  // map per request and turned those reads into IC misses: a fifth of the proxy's CPU).
  return {
    minor,
    contentLength: fields.contentLength,
    chunked: fields.chunked,
    close: asksToClose(minor, tokens),
    upgrade: tokens.has('upgrade') ? fields.upgradeHeader : undefined,
    forwarded: forwardedLines(head, fieldsFrom, fields, tokens, REQUEST_DROP) + requestFraming(fields),
    method,
    target: match[2] as string,
    host: fields.host,
    cookie: fields.cookie,
    forwardedFor: fields.forwardedFor,
    forwardedProto: fields.forwardedProto,
    forwardedHost: fields.forwardedHost,
  };
}

/** Parses a response head (latin1, without the blank line); malformed heads are a 502. */
export function parseResponseHead(head: string): ResponseHead {
  checkLineBreaks(head, 502);
  const { line: statusLine, fieldsFrom } = startLine(head);
  const match = STATUS_LINE.exec(statusLine);
  if (match === null) throw new HeadError(502, `malformed status line: ${JSON.stringify(statusLine.slice(0, 80))}`);
  const minor = match[1] === '1' ? 1 : 0;
  const fields = readFields(head, fieldsFrom, minor, RESPONSE_DROP, 502);
  const timeout = fields.keepAlive === undefined ? null : KEEP_ALIVE_TIMEOUT.exec(fields.keepAlive);
  const tokens = connectionTokens(fields.connection);
  return {
    minor,
    contentLength: fields.contentLength,
    chunked: fields.chunked,
    close: asksToClose(minor, tokens),
    upgrade: tokens.has('upgrade') ? fields.upgradeHeader : undefined,
    forwarded: forwardedLines(head, fieldsFrom, fields, tokens, RESPONSE_DROP),
    status: Number(match[2]),
    statusLine,
    keepAliveMs: timeout ? Number(timeout[1]) * 1000 : undefined,
  };
}
