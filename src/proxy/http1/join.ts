/** A head (latin1 text) and the body bytes that follow it, as one buffer for a single write. */
export function joinHead(head: string, body: Buffer): Buffer {
  const headBytes = head.length; // latin1: one byte per character
  const out = Buffer.allocUnsafe(headBytes + body.length);
  out.write(head, 0, 'latin1');
  body.copy(out, headBytes);
  return out;
}
