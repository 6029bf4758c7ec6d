import { HeadError } from './head.js';

/** Longest chunk-size line (size plus extensions) and trailer section accepted. */
const MAX_SIZE_LINE = 4096;
const MAX_TRAILERS = 16 * 1024;
/** More significant hex digits than this would overflow a safe integer (leading zeros are free). */
const MAX_HEX_DIGITS = 13;

const enum State {
  Size,
  /** Whitespace after the size: only a `;` (an extension) may follow (RFC 9112 §7.1.1 BWS). */
  SizeBws,
  SizeExtension,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerLineStart,
  TrailerLine,
  TrailerLf,
  FinalLf,
  Done,
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** A CTL but HTAB: LF, NUL and the like have no place in a chunk extension. */
function isControl(byte: number): boolean {
  return (byte < 0x20 && byte !== 0x09) || byte === 0x7f;
}

/**
 * Finds where a chunked body ends (RFC 9112 §7.1): the proxy forwards the chunks as they are
 * and only needs to know which bytes belong to this message (with `onData`, it also hands out
 * the data alone, for HTTP/1.0 clients). Chunk data is skipped in bulk; only size lines and
 * trailers are read byte by byte.
 */
export class ChunkedFramer {
  readonly untilClose = false;
  private state = State.Size;
  private remaining = 0;
  private digits = 0;
  private sawDigit = false;
  private lineBytes = 0;
  private trailerBytes = 0;

  constructor(
    private readonly errorStatus: number,
    /** Told each run of chunk data, without the framing: set it to decode the body. */
    private readonly onData?: (buf: Buffer, start: number, end: number) => void,
  ) {}

  get done(): boolean {
    return this.state === State.Done;
  }

  /** How many bytes of `buf`, from `start`, belong to the body (fewer once it ends). */
  take(buf: Buffer, start: number): number {
    let i = start;
    const end = buf.length;
    while (i < end && this.state !== State.Done) {
      if (this.state === State.Data) {
        const n = Math.min(this.remaining, end - i);
        this.remaining -= n;
        if (n > 0) this.onData?.(buf, i, i + n);
        i += n;
        if (this.remaining === 0) this.state = State.DataCr;
        continue;
      }
      this.step(buf[i] as number);
      i++;
    }
    return i - start;
  }

  private fail(why: string): never {
    throw new HeadError(this.errorStatus, `malformed chunked body: ${why}`);
  }

  private step(byte: number): void {
    switch (this.state) {
      case State.Size: {
        if (++this.lineBytes > MAX_SIZE_LINE) this.fail('chunk size line too long');
        const digit = hexValue(byte);
        if (digit >= 0) {
          this.sawDigit = true;
          if (this.remaining > 0 || digit > 0) {
            if (++this.digits > MAX_HEX_DIGITS) this.fail('chunk size too large');
            this.remaining = this.remaining * 16 + digit;
          }
          return;
        }
        if (!this.sawDigit) this.fail('chunk size expected');
        if (byte === 0x0d) this.state = State.SizeLf;
        else if (byte === 0x3b) this.state = State.SizeExtension;
        else if (byte === 0x20 || byte === 0x09) this.state = State.SizeBws;
        else this.fail('invalid chunk size');
        return;
      }
      case State.SizeBws:
        // "3 2" must not pass for a chunk of 3: another parser may read it as 0x32.
        if (++this.lineBytes > MAX_SIZE_LINE) this.fail('chunk size line too long');
        if (byte === 0x3b) this.state = State.SizeExtension;
        else if (byte !== 0x20 && byte !== 0x09) this.fail('invalid chunk size: only a ";" extension may follow it');
        return;
      case State.SizeExtension:
        if (++this.lineBytes > MAX_SIZE_LINE) this.fail('chunk extension too long');
        if (byte === 0x0d) this.state = State.SizeLf;
        else if (isControl(byte)) this.fail('a control character in a chunk extension');
        return;
      case State.SizeLf:
        if (byte !== 0x0a) this.fail('CR without LF after chunk size');
        this.digits = 0;
        this.sawDigit = false;
        this.lineBytes = 0;
        this.state = this.remaining === 0 ? State.TrailerLineStart : State.Data;
        return;
      case State.DataCr:
        if (byte !== 0x0d) this.fail('chunk data longer than its size');
        this.state = State.DataLf;
        return;
      case State.DataLf:
        if (byte !== 0x0a) this.fail('CR without LF after chunk data');
        this.state = State.Size;
        return;
      case State.TrailerLineStart:
        if (byte === 0x0d) this.state = State.FinalLf;
        else this.trailer(byte);
        return;
      case State.TrailerLine:
        this.trailer(byte);
        return;
      case State.TrailerLf:
        if (byte !== 0x0a) this.fail('CR without LF in trailers');
        this.state = State.TrailerLineStart;
        return;
      case State.FinalLf:
        if (byte !== 0x0a) this.fail('CR without LF at the end of the body');
        this.state = State.Done;
        return;
      default:
        return;
    }
  }

  private trailer(byte: number): void {
    if (++this.trailerBytes > MAX_TRAILERS) this.fail('trailers too large');
    if (byte === 0x0d) this.state = State.TrailerLf;
    else if (byte === 0x0a || byte === 0) this.fail('bare LF in trailers');
    else this.state = State.TrailerLine;
  }
}
