/**
 * One pass over a head's header lines: validates what framing depends on, collects the few
 * values the proxy reads, and keeps the lines it passes on.
 */
import { HeadError } from './head-error.js';
import { trimOws } from './ows.js';

const DIGITS = /^\d{1,15}$/;

/** Headers never forwarded: hop-by-hop (RFC 9110 §7.6.1) or replaced by the proxy (framing too). */
export const REQUEST_DROP: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'upgrade', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host',
  'content-length', 'transfer-encoding',
]);
export const RESPONSE_DROP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade']);

export interface Fields {
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
  /** The header lines not dropped, each ending in CRLF, as received. */
  kept: string;
}

/** tchar of RFC 9110 §5.6.2, by char code: what a field name is made of. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

/**
 * The header names readFields tells apart, as numbers: matched by length and char codes, so a
 * line costs no lowercase copy of its name and no hashed Set lookup (those were a tenth of the
 * head parsing). Keep in step with REQUEST_DROP and RESPONSE_DROP above.
 */
const OTHER = 0;
const CONTENT_LENGTH = 1;
const TRANSFER_ENCODING = 2;
const CONNECTION = 3;
const UPGRADE = 4;
const HOST = 5;
const COOKIE = 6;
const FORWARDED_FOR = 7;
const FORWARDED_PROTO = 8;
const FORWARDED_HOST = 9;
const KEEP_ALIVE = 10;
const TE = 11;
/** Proxy-Connection and any other Proxy-* header. */
const PROXY_ANY = 12;

const bit = (...ids: number[]) => ids.reduce((mask, id) => mask | (1 << id), 0);
/** REQUEST_DROP and RESPONSE_DROP (and Proxy-*) as bits of the ids above. */
const REQUEST_DROP_BITS = bit(CONNECTION, KEEP_ALIVE, PROXY_ANY, TE, UPGRADE, FORWARDED_FOR, FORWARDED_PROTO, FORWARDED_HOST, CONTENT_LENGTH, TRANSFER_ENCODING);
const RESPONSE_DROP_BITS = bit(CONNECTION, KEEP_ALIVE, PROXY_ANY, UPGRADE);

/**
 * The name from `at` to `end` is `lower` in any case. `lower` holds only a-z and '-', and the
 * name only tchars (nameEnd checked), among which `| 0x20` maps A-Z to a-z and nothing else
 * onto a letter or '-'.
 */
function nameIs(head: string, at: number, end: number, lower: string): boolean {
  if (end - at !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) if ((head.charCodeAt(at + i) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/** Which of the names above the field name from `at` to `colon` is (OTHER: none). */
function nameId(head: string, at: number, colon: number): number {
  let id = OTHER;
  switch (colon - at) {
    case 2:
      if (nameIs(head, at, colon, 'te')) id = TE;
      break;
    case 4:
      if (nameIs(head, at, colon, 'host')) id = HOST;
      break;
    case 6:
      if (nameIs(head, at, colon, 'cookie')) id = COOKIE;
      break;
    case 7:
      if (nameIs(head, at, colon, 'upgrade')) id = UPGRADE;
      break;
    case 10:
      if (nameIs(head, at, colon, 'connection')) id = CONNECTION;
      else if (nameIs(head, at, colon, 'keep-alive')) id = KEEP_ALIVE;
      break;
    case 14:
      if (nameIs(head, at, colon, 'content-length')) id = CONTENT_LENGTH;
      break;
    case 15:
      if (nameIs(head, at, colon, 'x-forwarded-for')) id = FORWARDED_FOR;
      break;
    case 16:
      if (nameIs(head, at, colon, 'x-forwarded-host')) id = FORWARDED_HOST;
      break;
    case 17:
      if (nameIs(head, at, colon, 'transfer-encoding')) id = TRANSFER_ENCODING;
      else if (nameIs(head, at, colon, 'x-forwarded-proto')) id = FORWARDED_PROTO;
      break;
  }
  if (id === OTHER && colon - at > 6 && nameIs(head, at, at + 6, 'proxy-')) id = PROXY_ANY;
  return id;
}

/**
 * First letters (either case) of every header name the proxy reads or drops: a line starting
 * with any other letter (Date, Server, Accept, User-Agent…) is passed on without a closer look,
 * by far the commonest case.
 */
const MAY_MATTER = new Uint8Array(128);
for (const name of [...REQUEST_DROP, ...RESPONSE_DROP, 'host', 'cookie', 'proxy-']) {
  MAY_MATTER[name.charCodeAt(0)] = 1;
  MAY_MATTER[name.toUpperCase().charCodeAt(0)] = 1;
}

/** Where the field name starting at `at` ends: at its colon, or -1 when the line is malformed. */
function nameEnd(head: string, at: number): number {
  let i = at;
  for (let c = head.charCodeAt(i); c < 128 && TCHAR[c] === 1; c = head.charCodeAt(++i));
  return i > at && head.charCodeAt(i) === 0x3a ? i : -1;
}

/** The proxy removes this header: listed in `drop`, or a Proxy-* header. */
export function isDropped(lower: string, drop: ReadonlySet<string>): boolean {
  return drop.has(lower) || (lower.length > 6 && lower.startsWith('proxy-'));
}

/**
 * Walks the header lines of `head` (after the start line) once. `drop` names headers the proxy
 * removes; `status` is what a malformed header earns (400 for requests, 502 for responses).
 * Kept lines are passed on as slices of runs of consecutive lines, not line by line: the usual
 * head drops none or a trailing few, so that is one or two slices.
 */
export function readFields(head: string, from: number, minor: 0 | 1, drop: ReadonlySet<string>, status: number): Fields {
  const f: Fields = {
    contentLength: -1, chunked: false, connection: undefined, upgradeHeader: undefined, transferEncoding: undefined,
    host: undefined, cookie: undefined, forwardedFor: undefined, forwardedProto: undefined, forwardedHost: undefined, keepAlive: undefined, kept: '',
  };
  const request = drop === REQUEST_DROP;
  const dropBits = request ? REQUEST_DROP_BITS : RESPONSE_DROP_BITS;
  let at = from;
  /** Start of the current run of kept lines (-1: none open). */
  let run = -1;
  while (at < head.length) {
    let end = head.indexOf('\r\n', at);
    if (end === -1) end = head.length;
    if (end === at) {
      // Not in a head cut at its blank line; skipped, and not passed on, all the same.
      if (run !== -1) f.kept += head.slice(run, at);
      run = -1;
      at += 2;
      continue;
    }
    const colon = nameEnd(head, at);
    if (colon === -1) {
      // Covers obs-fold (a line starting with whitespace) and "Name : value" too.
      throw new HeadError(status, `malformed header line: ${JSON.stringify(head.slice(at, Math.min(end, at + 60)))}`);
    }
    if (MAY_MATTER[head.charCodeAt(at)] === 0) {
      if (run === -1) run = at;
      at = end + 2;
      continue;
    }
    const id = nameId(head, at, colon);
    switch (id) {
      case CONTENT_LENGTH: {
        const value = trimOws(head, colon + 1, end);
        if (!DIGITS.test(value)) throw new HeadError(status, `invalid Content-Length: ${JSON.stringify(value)}`);
        const length = Number(value);
        if (f.contentLength !== -1 && f.contentLength !== length) throw new HeadError(status, 'conflicting Content-Length headers');
        f.contentLength = length;
        break;
      }
      case TRANSFER_ENCODING: {
        const value = trimOws(head, colon + 1, end);
        f.transferEncoding = f.transferEncoding === undefined ? value : `${f.transferEncoding}, ${value}`;
        break;
      }
      case CONNECTION: {
        const value = trimOws(head, colon + 1, end);
        f.connection = f.connection === undefined ? value : `${f.connection}, ${value}`;
        break;
      }
      case UPGRADE:
        f.upgradeHeader = trimOws(head, colon + 1, end);
        break;
      case HOST:
        if (f.host !== undefined && request) throw new HeadError(status, 'more than one Host header');
        f.host = trimOws(head, colon + 1, end);
        break;
      case COOKIE: {
        const value = trimOws(head, colon + 1, end);
        f.cookie = f.cookie === undefined ? value : `${f.cookie}; ${value}`;
        break;
      }
      case FORWARDED_FOR: {
        const value = trimOws(head, colon + 1, end);
        f.forwardedFor = f.forwardedFor === undefined ? value : `${f.forwardedFor}, ${value}`;
        break;
      }
      case FORWARDED_PROTO:
        f.forwardedProto ??= trimOws(head, colon + 1, end);
        break;
      case FORWARDED_HOST:
        f.forwardedHost ??= trimOws(head, colon + 1, end);
        break;
      case KEEP_ALIVE:
        f.keepAlive = trimOws(head, colon + 1, end);
        break;
    }
    if ((dropBits & (1 << id)) !== 0) {
      if (run !== -1) f.kept += head.slice(run, at);
      run = -1;
    } else if (run === -1) run = at;
    at = end + 2;
  }
  if (run !== -1) f.kept += at > head.length ? `${head.slice(run)}\r\n` : head.slice(run, at);
  if (f.transferEncoding !== undefined) {
    if (f.contentLength !== -1) throw new HeadError(status, 'both Content-Length and Transfer-Encoding');
    f.chunked = isChunked(f.transferEncoding, minor, status);
  }
  return f;
}

/** The kept header lines, each with its lowercase name, for the rare head whose Connection names headers. */
export function keptLines(head: string, from: number, drop: ReadonlySet<string>): Array<[lower: string, line: string]> {
  const lines: Array<[string, string]> = [];
  for (let at = from; at < head.length; ) {
    let end = head.indexOf('\r\n', at);
    if (end === -1) end = head.length;
    const colon = head.indexOf(':', at);
    if (end > at && colon !== -1 && colon < end) {
      const lower = head.slice(at, colon).toLowerCase();
      if (!isDropped(lower, drop)) lines.push([lower, head.slice(at, end)]);
    }
    at = end + 2;
  }
  return lines;
}

/**
 * Whether a Transfer-Encoding makes the body chunked, refusing what the proxy cannot frame the
 * way the receiver will (RFC 9112 §6.1, §6.3): in HTTP/1.0, chunked twice, or not last. A request
 * must say exactly `chunked` (as nginx requires): it is forwarded with the proxy's own
 * `transfer-encoding: chunked`, so any other coding would be lost on the way.
 */
function isChunked(transferEncoding: string, minor: 0 | 1, status: number): boolean {
  const request = status === 400;
  if (minor === 0) throw new HeadError(status, 'Transfer-Encoding in an HTTP/1.0 message');
  const codings = transferEncoding.toLowerCase().split(',').map((coding) => trimOws(coding, 0));
  if (codings.filter((coding) => coding === 'chunked').length > 1) throw new HeadError(status, 'Transfer-Encoding applies chunked more than once');
  if (codings[codings.length - 1] !== 'chunked' || (request && codings.length > 1)) {
    throw new HeadError(request ? 501 : status, `unsupported Transfer-Encoding: ${JSON.stringify(transferEncoding)}`);
  }
  return true;
}

