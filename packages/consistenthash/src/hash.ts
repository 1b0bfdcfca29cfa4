const encoder = new TextEncoder();
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * fnv1a32 hashes the UTF-8 bytes of s with 32-bit FNV-1a followed by murmur3's fmix32 finalizer.
 * FNV-1a alone spreads short, similar strings ("node#1", "node#2") poorly over the high bits a
 * ring depends on; the finalizer gives full avalanche for three multiplies.
 */
export function fnv1a32(s: string): number {
  return fmix32(fnvUpdate(FNV_OFFSET, s));
}

/** fnv1a32Bytes is fnv1a32 over raw bytes: fnv1a32(s) === fnv1a32Bytes(utf8(s)). */
export function fnv1a32Bytes(bytes: Uint8Array): number {
  return fmix32(fnvUpdateBytes(FNV_OFFSET, bytes));
}

/** fnvStart is the FNV-1a state before any byte; internal, for hashing shared prefixes once. */
export const fnvStart = FNV_OFFSET;

/** fnvUpdate feeds the UTF-8 bytes of s into the raw FNV-1a state h (no finalizer). */
export function fnvUpdate(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // ASCII is its own UTF-8; anything else goes through the encoder (lone surrogates become
    // U+FFFD, as everywhere else that encodes UTF-8).
    if (c >= 0x80) return fnvUpdateBytes(h, encoder.encode(s.slice(i)));
    h = Math.imul(h ^ c, FNV_PRIME);
  }
  return h;
}

function fnvUpdateBytes(h: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, FNV_PRIME);
  return h;
}

/** fmix32 is murmur3's 32-bit finalizer; it returns an unsigned 32-bit integer. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
