import { MAX_PEEK_BYTES, type Peeked } from './client-hello.js';
import { hostName } from './host-names.js';

const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * The name the first plain-HTTP request of a connection asks for (its Host header), read from
 * the head only, so a shared plain-HTTP port can hand the connection to the app serving it.
 * A head without Host (HTTP/1.0) gives no name: the owner of the port answers it.
 */
export function hostOfFirstRequest(bytes: Buffer): Peeked {
  const end = bytes.indexOf(HEAD_END);
  if (end === -1) return bytes.length >= MAX_PEEK_BYTES ? { kind: 'invalid' } : { kind: 'more' };
  const lines = bytes.subarray(0, end).toString('latin1').split('\r\n');
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).toLowerCase() === 'host') return { kind: 'done', name: hostName(line.slice(colon + 1)) };
  }
  return { kind: 'done', name: undefined };
}
