/**
 * One pass over a head's header lines: validates what framing depends on, collects the few
 * values the proxy reads, and keeps the lines it passes on.
 */
import { HeadError } from './head-error.js';
import { trimOws } from './ows.js';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const DIGITS = /^\d{1,15}$/;

/** Headers never forwarded: hop-by-hop (RFC 9110 §7.6.1) or replaced by the proxy (framing too). */
export const REQUEST_DROP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'upgrade', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host',
  'content-length', 'transfer-encoding',
]);
export const RESPONSE_DROP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade']);

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
  /** Kept header lines as [lowercase name, full line] pairs, for Connection-token removal. */
  kept: string[];
}

/**
 * Walks the header lines of `head` (after the start line) once. `drop` names headers the proxy
 * removes; `status` is what a malformed header earns (400 for requests, 502 for responses).
 */
export function readFields(head: string, from: number, minor: 0 | 1, drop: Set<string>, status: number): Fields {
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
    f.chunked = isChunked(f.transferEncoding, minor, status);
  }
  return f;
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

