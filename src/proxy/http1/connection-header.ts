import { HeadError } from './head-error.js';
import { trimOws } from './ows.js';

/**
 * Headers a request's `Connection` may not name. Naming a header there asks the proxy to drop it
 * (RFC 9110 §7.6.1), but the proxy frames the body by Content-Length / Transfer-Encoding and routes
 * by Host, the sticky cookie and the trusted X-Forwarded-* trio: had it dropped them, the app would
 * frame or route the request differently from the proxy (a half request left on a pooled
 * connection, completed by the next client's). Such requests are refused. Naming TE (which RFC
 * 9110 §10.1.4 requires), Trailer, Upgrade, Keep-Alive or any other header stays allowed.
 */
const MAY_NOT_BE_NAMED = new Set(['content-length', 'transfer-encoding', 'host', 'cookie', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);

const NO_TOKENS: ReadonlySet<string> = new Set();
const KEEP_ALIVE: ReadonlySet<string> = new Set(['keep-alive']);
const CLOSE: ReadonlySet<string> = new Set(['close']);

/**
 * Connection tokens: close/keep-alive/upgrade, and header names the sender marks hop-by-hop.
 * Nearly every message says nothing, `keep-alive` or `close`: those get a shared set, no split.
 */
export function connectionTokens(connection: string | undefined): ReadonlySet<string> {
  if (connection === undefined) return NO_TOKENS;
  if (connection.length === 10 && connection.toLowerCase() === 'keep-alive') return KEEP_ALIVE;
  if (connection.length === 5 && connection.toLowerCase() === 'close') return CLOSE;
  const tokens = new Set<string>();
  for (const part of connection.split(',')) {
    const token = trimOws(part, 0).toLowerCase();
    if (token !== '') tokens.add(token);
  }
  return tokens;
}

/** A request whose Connection names a header the proxy frames or routes by: 400. */
export function refuseProtectedTokens(tokens: ReadonlySet<string>): void {
  for (const token of tokens) {
    if (MAY_NOT_BE_NAMED.has(token)) {
      throw new HeadError(400, `Connection may not name ${token}: the proxy frames and routes requests by it`);
    }
  }
}

/** The tokens name headers besides close / keep-alive / upgrade: those are hop-by-hop too. */
export function namesHeaders(tokens: ReadonlySet<string>): boolean {
  return tokens.size > (tokens.has('close') ? 1 : 0) + (tokens.has('keep-alive') ? 1 : 0) + (tokens.has('upgrade') ? 1 : 0);
}

/**
 * The kept lines, minus any header the Connection header names, joined for the wire. A response
 * naming its own framing keeps it: the proxy frames the body by it, so the client must see it.
 */
export function joinKept(kept: ReadonlyArray<[lower: string, line: string]>, tokens: ReadonlySet<string>): string {
  let out = '';
  for (const [name, line] of kept) {
    if (tokens.has(name) && !MAY_NOT_BE_NAMED.has(name)) continue;
    out += `${line}\r\n`;
  }
  return out;
}
