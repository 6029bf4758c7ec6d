/**
 * HTTP/1.x message heads, parsed only as far as a proxy must: the start line, how the body is
 * framed, whether the connection stays open, and the few headers the router reads. Everything
 * else is passed on byte for byte. Parsing is strict where lenient parsers enable request
 * smuggling (RFC 9112 §6.3, §11.2): bare CR or LF, obs-fold, a space before the colon, conflicting
 * Content-Length, Content-Length with Transfer-Encoding, or a Transfer-Encoding not ending in
 * chunked are all refused.
 */

/** A head the proxy refuses; `status` is what the client is told (a request) or 502 (a response). */
export class HeadError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Larger heads are refused with 431, like node:http's default limit. */
export const MAX_HEAD_BYTES = 16 * 1024;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A CR not followed by LF, an LF not preceded by CR, or another control character but HTAB. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const BAD_LINE_BREAK = /\r(?!\n)|(?<!\r)\n|[\0-\x08\x0b\x0c\x0e-\x1f\x7f]/;
/** Method, then a target of visible ASCII only (RFC 9112 §3.2), then the version. */
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([!-~]+) HTTP\/1\.([01])$/;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: [^\r\n]*)?$/;
const DIGITS = /^\d{1,15}$/;
const KEEP_ALIVE_TIMEOUT = /(?:^|[\s,;])timeout\s*=\s*(\d+)/i;

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
  /** Header lines to forward, each ending in CRLF, hop-by-hop ones removed. */
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

/** Headers never forwarded: hop-by-hop (RFC 9110 §7.6.1) or replaced by the proxy. */
const REQUEST_DROP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'upgrade', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);
const RESPONSE_DROP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade']);

interface Fields {
  contentLength: number;
  chunked: boolean;
  connection: string | undefined;
  upgradeHeader: string | undefined;
  transferEncoding: string | undefined;
  host: string | undefined;
  cookie: string | undefined;
  forwardedFor: string | undefined;
  forwardedProto: string | undefined;
  forwardedHost: string | undefined;
  keepAlive: string | undefined;
  /** Kept header lines as [lowercase name, full line] pairs, for Connection-token removal. */
  kept: string[];
}

/**
 * Walks the header lines of `head` (after the start line) once. `drop` names headers the proxy
 * removes; `status` is what a malformed header earns (400 for requests, 502 for responses).
 */
function readFields(head: string, from: number, drop: Set<string>, status: number): Fields {
  const f: Fields = {
    contentLength: -1, chunked: false, connection: undefined, upgradeHeader: undefined, transferEncoding: undefined,
    host: undefined, cookie: undefined, forwardedFor: undefined, forwardedProto: undefined, forwardedHost: undefined, keepAlive: undefined, kept: [],
  };
  let at = from;
  while (at < head.length) {
    let end = head.indexOf('\r\n', at);
    if (end === -1) end = head.length;
    const line = head.slice(at, end);
    at = end + 2;
    if (line.length === 0) continue;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) {
      // Covers obs-fold (a line starting with whitespace) and "Name : value" too.
      throw new HeadError(status, `malformed header line: ${JSON.stringify(line.slice(0, 60))}`);
    }
    const lower = name.toLowerCase();
    const value = trimOws(line, colon + 1);
    switch (lower) {
      case 'content-length': {
        if (!DIGITS.test(value)) throw new HeadError(status, `invalid Content-Length: ${JSON.stringify(value)}`);
        const length = Number(value);
        if (f.contentLength !== -1 && f.contentLength !== length) throw new HeadError(status, 'conflicting Content-Length headers');
        f.contentLength = length;
        break;
      }
      case 'transfer-encoding':
        f.transferEncoding = f.transferEncoding === undefined ? value : `${f.transferEncoding}, ${value}`;
        break;
      case 'connection':
        f.connection = f.connection === undefined ? value : `${f.connection}, ${value}`;
        break;
      case 'upgrade':
        f.upgradeHeader = value;
        break;
      case 'host':
        if (f.host !== undefined && drop === REQUEST_DROP) throw new HeadError(status, 'more than one Host header');
        f.host = value;
        break;
      case 'cookie':
        f.cookie = f.cookie === undefined ? value : `${f.cookie}; ${value}`;
        break;
      case 'x-forwarded-for':
        f.forwardedFor = f.forwardedFor === undefined ? value : `${f.forwardedFor}, ${value}`;
        break;
      case 'x-forwarded-proto':
        f.forwardedProto ??= value;
        break;
      case 'x-forwarded-host':
        f.forwardedHost ??= value;
        break;
      case 'keep-alive':
        f.keepAlive = value;
        break;
    }
    if (drop.has(lower) || (lower.length > 6 && lower.startsWith('proxy-'))) continue;
    f.kept.push(lower, line);
  }
  if (f.transferEncoding !== undefined) {
    if (f.contentLength !== -1) throw new HeadError(status, 'both Content-Length and Transfer-Encoding');
    const codings = f.transferEncoding.toLowerCase().split(',');
    const last = codings[codings.length - 1] ?? '';
    if (trimOws(last, 0) !== 'chunked') {
      throw new HeadError(status === 400 ? 501 : status, `unsupported Transfer-Encoding: ${JSON.stringify(f.transferEncoding)}`);
    }
    f.chunked = true;
  }
  return f;
}

/**
 * The field value: `line` from `start`, without leading or trailing SP and HTAB (RFC 9110 §5.5).
 * Not String#trim, which also strips NBSP (0xA0): "chunked\xa0" must not pass for "chunked".
 */
function trimOws(line: string, start: number): string {
  let from = start;
  let to = line.length;
  while (from < to && (line.charCodeAt(from) === 0x20 || line.charCodeAt(from) === 0x09)) from++;
  while (to > from && (line.charCodeAt(to - 1) === 0x20 || line.charCodeAt(to - 1) === 0x09)) to--;
  return line.slice(from, to);
}

/** Connection tokens: close/keep-alive/upgrade, and header names the sender marks hop-by-hop. */
function connectionTokens(connection: string | undefined): Set<string> {
  const tokens = new Set<string>();
  if (connection === undefined) return tokens;
  for (const part of connection.split(',')) {
    const token = trimOws(part, 0).toLowerCase();
    if (token !== '') tokens.add(token);
  }
  return tokens;
}

/** The kept lines, minus any header the Connection header names, joined for the wire. */
function joinKept(kept: string[], tokens: Set<string>): string {
  let out = '';
  const named = tokens.size > (tokens.has('close') ? 1 : 0) + (tokens.has('keep-alive') ? 1 : 0) + (tokens.has('upgrade') ? 1 : 0);
  for (let i = 0; i < kept.length; i += 2) {
    if (named && tokens.has(kept[i] as string)) continue;
    out += `${kept[i + 1] as string}\r\n`;
  }
  return out;
}

/** The start line, and where the header lines begin. */
function startLine(head: string): { line: string; fieldsFrom: number } {
  const lineEnd = head.indexOf('\r\n');
  return lineEnd === -1 ? { line: head, fieldsFrom: head.length } : { line: head.slice(0, lineEnd), fieldsFrom: lineEnd + 2 };
}

/** What requests and responses share: framing, connection semantics, the lines to forward. */
function baseOf(minor: 0 | 1, fields: Fields): HeadBase {
  const tokens = connectionTokens(fields.connection);
  return {
    minor,
    contentLength: fields.contentLength,
    chunked: fields.chunked,
    close: tokens.has('close') || (minor === 0 && !tokens.has('keep-alive')),
    upgrade: tokens.has('upgrade') ? fields.upgradeHeader : undefined,
    forwarded: joinKept(fields.kept, tokens),
  };
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
  const fields = readFields(head, fieldsFrom, REQUEST_DROP, 400);
  if (minor === 1 && fields.host === undefined) throw new HeadError(400, 'HTTP/1.1 request without a Host header');
  return {
    ...baseOf(minor, fields),
    method: match[1] as string,
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
  const fields = readFields(head, fieldsFrom, RESPONSE_DROP, 502);
  const timeout = fields.keepAlive === undefined ? null : KEEP_ALIVE_TIMEOUT.exec(fields.keepAlive);
  return {
    ...baseOf(minor, fields),
    status: Number(match[2]),
    statusLine,
    keepAliveMs: timeout ? Number(timeout[1]) * 1000 : undefined,
  };
}
