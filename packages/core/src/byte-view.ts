import { Buffer } from "node:buffer";

/** ByteViewOptions carry metadata with a value's bytes. */
export interface ByteViewOptions {
  /** Absolute expiry in Unix epoch milliseconds; the value is stale from then on. */
  expiresAtMs?: number;
}

// Set in ByteView's static block, so only this package (through ./internal.ts) reaches the
// bytes without a copy; the public API has no way to get at them.
let unwrap!: (view: ByteView) => Uint8Array;
let adopt!: (bytes: Uint8Array, expiresAtMs: number | undefined) => ByteView;
let resolved!: (view: ByteView) => Promise<ByteView>;

const encoder = new TextEncoder();

function checkExpiry(expiresAtMs: number | undefined): void {
  if (expiresAtMs !== undefined && !Number.isFinite(expiresAtMs)) {
    throw new RangeError(`expiresAtMs must be a finite number, got ${expiresAtMs}`);
  }
}

/**
 * ByteView is an immutable view of a value's bytes. It copies in (ByteView.from) and copies out
 * (toUint8Array, toBuffer), so neither the creator nor any reader can change a cached value.
 * Sharing one ByteView between callers is therefore safe and free.
 */
export class ByteView {
  // Never handed out: every way out copies.
  readonly #bytes: Uint8Array;
  #text: string | undefined;
  // A settled promise of this view, made on the first cache hit and reused by every later one.
  #promise: Promise<ByteView> | undefined;
  /** expiresAtMs is the absolute expiry in Unix epoch ms, or undefined for no expiry. */
  readonly expiresAtMs: number | undefined;

  private constructor(bytes: Uint8Array, expiresAtMs: number | undefined) {
    this.#bytes = bytes;
    this.expiresAtMs = expiresAtMs;
  }

  static {
    unwrap = (view) => view.#bytes;
    adopt = (bytes, expiresAtMs) => new ByteView(bytes, expiresAtMs);
    resolved = (view) => (view.#promise ??= Promise.resolve(view));
  }

  /** from copies bytes (or encodes a string as UTF-8) into a new ByteView. */
  static from(value: Uint8Array | string, options?: ByteViewOptions): ByteView {
    const expiresAtMs = options?.expiresAtMs;
    checkExpiry(expiresAtMs);
    // Both ways make a plain Uint8Array of exact size: never a Buffer (whose slice() shares
    // memory) nor a slice of Buffer's shared pool (which would pin 8 KiB per small value).
    if (typeof value === "string") return new ByteView(encoder.encode(value), expiresAtMs);
    if (!(value instanceof Uint8Array)) {
      throw new TypeError("ByteView.from takes a Uint8Array or a string");
    }
    return new ByteView(new Uint8Array(value), expiresAtMs);
  }

  /** byteLength is the number of bytes in the value. */
  get byteLength(): number {
    return this.#bytes.byteLength;
  }

  /** at returns the byte at index (negative counts from the end), or undefined out of range. */
  at(index: number): number | undefined {
    return this.#bytes.at(index);
  }

  /** slice returns a ByteView of bytes [start, end) sharing this one's memory (it is immutable). */
  slice(start?: number, end?: number): ByteView {
    return new ByteView(this.#bytes.subarray(start, end), this.expiresAtMs);
  }

  /** toString decodes the bytes as UTF-8 (once; the string is kept). */
  toString(): string {
    if (this.#text === undefined) {
      const b = this.#bytes;
      this.#text = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("utf8");
    }
    return this.#text;
  }

  /** toUint8Array returns a copy of the bytes. */
  toUint8Array(): Uint8Array {
    return new Uint8Array(this.#bytes);
  }

  /** toBuffer returns a copy of the bytes as a Buffer. */
  toBuffer(): Buffer {
    return Buffer.from(this.#bytes);
  }

  /** equals compares the bytes (not the expiry) with another view, bytes or a UTF-8 string. */
  equals(other: ByteView | Uint8Array | string): boolean {
    const a = this.#bytes;
    let b: Uint8Array;
    if (other instanceof ByteView) b = other.#bytes;
    else if (typeof other === "string") b = Buffer.from(other, "utf8");
    else b = other;
    if (a.byteLength !== b.byteLength) return false;
    return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
  }

  /** toJSON renders the value as its UTF-8 string, so views log readably. */
  toJSON(): string {
    return this.toString();
  }
}

/** bytesOf returns a view's own bytes without copying. Internal: see ./internal.ts. */
export function bytesOf(view: ByteView): Uint8Array {
  return unwrap(view);
}

/** adoptBytes wraps bytes without copying; the caller gives them up. Internal: see ./internal.ts. */
export function adoptBytes(bytes: Uint8Array, expiresAtMs?: number): ByteView {
  checkExpiry(expiresAtMs);
  return adopt(bytes, expiresAtMs);
}

/**
 * resolvedPromise returns a settled promise of view, the same one each time: a cache hit then
 * allocates nothing. Sharing it is safe because a settled promise cannot change. Core only.
 */
export function resolvedPromise(view: ByteView): Promise<ByteView> {
  return resolved(view);
}
