import { ChunkedFramer } from './chunked.js';

/** Tells which bytes of a stream belong to one message body. */
export interface BodyFramer {
  /** How many bytes of `buf`, from `start`, belong to the body. */
  take(buf: Buffer, start: number): number;
  readonly done: boolean;
  /** The body ends only when the sender closes the connection. */
  readonly untilClose: boolean;
}

class LengthFramer implements BodyFramer {
  readonly untilClose = false;
  constructor(private remaining: number) {}
  get done(): boolean {
    return this.remaining === 0;
  }
  take(buf: Buffer, start: number): number {
    const n = Math.min(this.remaining, buf.length - start);
    this.remaining -= n;
    return n;
  }
}

class UntilCloseFramer implements BodyFramer {
  readonly untilClose = true;
  readonly done = false;
  take(buf: Buffer, start: number): number {
    return buf.length - start;
  }
}

/** No body at all (or an empty one): shared, since it has no state. */
const EMPTY: BodyFramer = { untilClose: false, done: true, take: () => 0 };

/** The framer for a body, from the head's framing fields (RFC 9112 §6.3). */
export function framerFor(
  framing: { chunked: boolean; contentLength: number },
  options: { noBody: boolean; untilCloseIfUnframed: boolean; errorStatus: number },
): BodyFramer {
  if (options.noBody) return EMPTY;
  if (framing.chunked) return new ChunkedFramer(options.errorStatus);
  if (framing.contentLength > 0) return new LengthFramer(framing.contentLength);
  if (framing.contentLength === 0 || !options.untilCloseIfUnframed) return EMPTY;
  return new UntilCloseFramer();
}
