const encoder = new TextEncoder();

/**
 * fnv1a32 hashes the UTF-8 bytes of s with 32-bit FNV-1a followed by murmur3's fmix32 finalizer.
 * FNV-1a alone spreads short, similar strings ("node#1", "node#2") poorly over the high bits a
 * ring depends on; the finalizer gives full avalanche for three multiplies.
 */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return fnv1a32Bytes(encoder.encode(s));
    h = Math.imul(h ^ c, 0x01000193);
  }
  return fmix32(h);
}

/** fnv1a32Bytes is fnv1a32 over raw bytes. */
export function fnv1a32Bytes(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return fmix32(h);
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
