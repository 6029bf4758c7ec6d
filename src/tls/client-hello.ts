/**
 * The server name (SNI) a TLS client asks for, read from its first bytes (the ClientHello)
 * without decrypting anything, so a shared port can hand the connection to the app that serves
 * that name before any handshake. Bounded: a ClientHello is read from at most MAX_PEEK_BYTES.
 */

/** More than any real ClientHello (about 2 KB with post-quantum key shares); the TLS record limit. */
export const MAX_PEEK_BYTES = 16 * 1024;

/** `more`: not enough bytes yet. `done`: the name, or undefined when the client sent none. `invalid`: not a TLS ClientHello. */
export type Peeked = { kind: 'more' } | { kind: 'done'; name: string | undefined } | { kind: 'invalid' };

const MORE: Peeked = { kind: 'more' };
const INVALID: Peeked = { kind: 'invalid' };
const HANDSHAKE_RECORD = 0x16;
const CLIENT_HELLO = 0x01;
const SERVER_NAME_EXTENSION = 0x0000;
const HOST_NAME = 0x00;

/**
 * The ClientHello may be split over several TLS records (each with a 5-byte header): their
 * payloads are joined until the handshake message is complete.
 */
export function sniFromClientHello(bytes: Buffer): Peeked {
  if (bytes.length > 0 && bytes[0] !== HANDSHAKE_RECORD) return INVALID;
  const handshake: Buffer[] = [];
  let length = 0;
  let offset = 0;
  while (offset + 5 <= bytes.length) {
    if (bytes[offset] !== HANDSHAKE_RECORD || bytes[offset + 1] !== 0x03) return INVALID;
    const recordLength = bytes.readUInt16BE(offset + 3);
    if (recordLength === 0 || recordLength > MAX_PEEK_BYTES) return INVALID;
    const payload = bytes.subarray(offset + 5, Math.min(bytes.length, offset + 5 + recordLength));
    handshake.push(payload);
    length += payload.length;
    offset += 5 + recordLength;
    const message = Buffer.concat(handshake, length);
    if (message.length >= 4) {
      if (message[0] !== CLIENT_HELLO) return INVALID;
      const size = message.readUIntBE(1, 3);
      if (size + 4 > MAX_PEEK_BYTES) return INVALID;
      if (message.length >= size + 4) return parseClientHello(message.subarray(4, size + 4));
    }
    if (payload.length < recordLength) return bytes.length >= MAX_PEEK_BYTES ? INVALID : MORE;
  }
  return bytes.length >= MAX_PEEK_BYTES ? INVALID : MORE;
}

/** client_version(2) random(32) session_id<1> cipher_suites<2> compression<1> extensions<2>. */
function parseClientHello(hello: Buffer): Peeked {
  const reader = new Reader(hello);
  reader.skip(2 + 32);
  reader.skip(reader.u8());
  reader.skip(reader.u16());
  reader.skip(reader.u8());
  if (reader.failed) return INVALID;
  if (reader.left === 0) return { kind: 'done', name: undefined };
  const end = reader.at + reader.u16();
  while (!reader.failed && reader.at + 4 <= end) {
    const type = reader.u16();
    const size = reader.u16();
    if (type !== SERVER_NAME_EXTENSION) {
      reader.skip(size);
      continue;
    }
    const listEnd = reader.at + reader.u16();
    while (!reader.failed && reader.at + 3 <= listEnd) {
      const nameType = reader.u8();
      const name = reader.bytes(reader.u16());
      if (nameType === HOST_NAME && name) return { kind: 'done', name: name.toString('latin1').toLowerCase().replace(/\.$/, '') };
    }
    return reader.failed ? INVALID : { kind: 'done', name: undefined };
  }
  return reader.failed ? INVALID : { kind: 'done', name: undefined };
}

/** Reads big-endian fields; any read past the end sets `failed` instead of throwing. */
class Reader {
  at = 0;
  failed = false;

  constructor(private readonly buf: Buffer) {}

  get left(): number {
    return this.buf.length - this.at;
  }

  private take(n: number): number {
    const start = this.at;
    if (n < 0 || start + n > this.buf.length) {
      this.failed = true;
      this.at = this.buf.length;
      return -1;
    }
    this.at += n;
    return start;
  }

  u8(): number {
    const at = this.take(1);
    return at < 0 ? 0 : (this.buf[at] as number);
  }

  u16(): number {
    const at = this.take(2);
    return at < 0 ? 0 : this.buf.readUInt16BE(at);
  }

  skip(n: number): void {
    this.take(n);
  }

  bytes(n: number): Buffer | undefined {
    const at = this.take(n);
    return at < 0 ? undefined : this.buf.subarray(at, at + n);
  }
}
