/**
 * MurmurHash3 x86 32-bit (Austin Appleby's reference) over the UTF-8 bytes of a string, seed 0:
 * the hash flagd's `fractional` buckets with. flagd (Go) hashes the string's UTF-8 bytes;
 * flagd's JS evaluator (@openfeature/flagd-core, through imurmurhash) hashes UTF-16 code units,
 * which gives the same result for ASCII keys only. ccom follows flagd, and so the C++ reference.
 */
const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const encoder = new TextEncoder();

export function murmur3(text: string, seed = 0): number {
  const bytes = isAscii(text) ? asciiBytes(text) : encoder.encode(text);
  const length = bytes.length;
  const blocks = length & ~3;
  let h = seed >>> 0;
  for (let i = 0; i < blocks; i += 4) {
    let k = (bytes[i] as number) | ((bytes[i + 1] as number) << 8) | ((bytes[i + 2] as number) << 16) | ((bytes[i + 3] as number) << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  switch (length & 3) {
    case 3:
      k ^= (bytes[blocks + 2] as number) << 16;
    // falls through
    case 2:
      k ^= (bytes[blocks + 1] as number) << 8;
    // falls through
    case 1:
      k ^= bytes[blocks] as number;
      k = Math.imul(k, C1);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, C2);
      h ^= k;
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** ASCII keys (the usual targeting keys) skip TextEncoder's allocation-heavy path. */
let scratch = new Uint8Array(64);
function asciiBytes(text: string): Uint8Array {
  if (scratch.length < text.length) scratch = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) scratch[i] = text.charCodeAt(i);
  return scratch.subarray(0, text.length);
}
