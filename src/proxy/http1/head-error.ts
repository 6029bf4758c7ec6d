/** A head the proxy refuses; `status` is what the client is told (a request) or 502 (a response). */
export class HeadError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Header lines (each ending in CRLF) the refusal must carry, e.g. a 405's `allow`. */
    readonly headers = '',
  ) {
    super(message);
  }
}
