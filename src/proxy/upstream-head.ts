import type { RequestHead } from './http1/head.js';
import type { Upstream } from './types.js';

/** The request line and headers sent to the instance: the client's (framed by the proxy), plus the x-forwarded-* trio. */
export function upstreamHead(head: RequestHead, remoteAddress: string, upstream: Upstream, encrypted = false): string {
  const forwardedFor = head.forwardedFor === undefined ? remoteAddress : `${head.forwardedFor}, ${remoteAddress}`;
  // A TLS terminator on this machine (Caddy, nginx) says the client used https and which host
  // it asked for; from anywhere else those headers could be forged, so they are replaced.
  const trusted = isLoopback(remoteAddress);
  // `encrypted`: ccom itself terminated TLS for this connection.
  const proto = encrypted ? 'https' : ((trusted ? head.forwardedProto : undefined) ?? 'http');
  const forwardedHost = (trusted ? head.forwardedHost : undefined) ?? head.host;
  // Always HTTP/1.1 upstream (node:http never keeps a 1.0 connection open); the exchange
  // decodes a chunked answer for an HTTP/1.0 client.
  let out = `${head.method} ${head.target} HTTP/1.1\r\n${head.forwarded}x-forwarded-for: ${forwardedFor}\r\nx-forwarded-proto: ${proto}\r\n`;
  if (forwardedHost !== undefined) out += `x-forwarded-host: ${forwardedHost}\r\n`;
  // An HTTP/1.0 client may send no Host; the HTTP/1.1 request upstream must have one.
  if (head.host === undefined) out += `host: ${upstream.host.includes(':') ? `[${upstream.host}]` : upstream.host}:${upstream.port}\r\n`;
  if (head.upgrade !== undefined) out += `connection: upgrade\r\nupgrade: ${head.upgrade}\r\n`;
  return `${out}\r\n`;
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}
