import { adoptBytes, ByteView, bytesOf } from "./byte-view.ts";
import { GeeCacheError } from "./errors.ts";

/** GetterContext is what a getter learns about the load it serves. */
export interface GetterContext {
  /**
   * signal aborts when every caller waiting for this load gave up, or when the group's
   * loadTimeoutMs passed. Pass it on to fetch/database calls.
   */
  signal: AbortSignal;
  /** group is the name of the group the key belongs to. */
  group: string;
}

/** GetterValue is a loaded value: bytes, a UTF-8 string, or a ByteView. */
export type GetterValue = Uint8Array | string | ByteView;

/**
 * GetterResult is what a getter returns:
 * - a GetterValue, cached without expiry (until evicted), or for the group's ttlMs if it has one;
 * - `{ value, ttlMs }`, cached for ttlMs milliseconds (the expiry travels with the value to
 *   peers and their hot caches);
 * - `null` or `undefined`: the key does not exist at the source ("not found"). Throwing
 *   `new GeeCacheError("NOT_FOUND", ...)` means the same.
 *
 * Bytes are copied in, so the getter may reuse its buffers afterwards.
 */
export type GetterResult = GetterValue | { value: GetterValue; ttlMs?: number } | null | undefined;

/**
 * Getter loads a key that is missing from the cache from the source of truth. Anything it throws
 * other than a NOT_FOUND GeeCacheError is a load failure: the caller gets a LOAD_FAILED
 * GeeCacheError with the thrown value as its cause, and nothing is cached. An INVALID_ARGUMENT
 * GeeCacheError (a key the source cannot be asked for) reaches the caller as it is, unlogged.
 */
export interface Getter {
  get(key: string, ctx: GetterContext): Promise<GetterResult> | GetterResult;
}

/** GetterFunc is a plain function usable wherever a Getter is, like groupcache's GetterFunc. */
export type GetterFunc = (key: string, ctx: GetterContext) => Promise<GetterResult> | GetterResult;

/** getterFunc adapts a function to the Getter interface. */
export function getterFunc(fn: GetterFunc): Getter {
  return { get: fn };
}

function toView(value: GetterValue, expiresAtMs: number | undefined): ByteView {
  if (!(value instanceof ByteView)) return ByteView.from(value, { expiresAtMs });
  // A ByteView is immutable: re-label its bytes with the new expiry instead of copying them.
  return value.expiresAtMs === expiresAtMs ? value : adoptBytes(bytesOf(value), expiresAtMs);
}

function isValue(r: unknown): r is GetterValue {
  return typeof r === "string" || r instanceof Uint8Array || r instanceof ByteView;
}

/**
 * normalizeResult turns what a getter returned into a ByteView carrying its absolute expiry, or
 * undefined for not found. A result's own ttlMs wins, then a bare ByteView's own expiry, then
 * defaultTtlMs (none: no expiry). It throws a TypeError on a malformed result.
 */
export function normalizeResult(
  result: GetterResult,
  now: number,
  defaultTtlMs?: number,
): ByteView | undefined {
  if (result === null || result === undefined) return undefined;
  let value: GetterValue;
  let ttlMs: number | undefined;
  if (isValue(result)) value = result;
  else if (typeof result === "object" && isValue(result.value)) {
    value = result.value;
    ttlMs = result.ttlMs;
    if (
      ttlMs !== undefined &&
      (typeof ttlMs !== "number" || !Number.isFinite(ttlMs) || ttlMs <= 0)
    ) {
      throw new TypeError(`a getter's ttlMs must be a finite number > 0, got ${String(ttlMs)}`);
    }
  } else {
    throw new TypeError(
      "a getter must return bytes, a string, a ByteView, { value, ttlMs? }, null or undefined",
    );
  }
  if (ttlMs === undefined && value instanceof ByteView && value.expiresAtMs !== undefined) {
    return value;
  }
  ttlMs ??= defaultTtlMs;
  return ttlMs === undefined ? toView(value, undefined) : toView(value, now + ttlMs);
}

/** isNotFound tells whether a thrown value means "not found". */
export function isNotFound(reason: unknown): boolean {
  return reason instanceof GeeCacheError && reason.code === "NOT_FOUND";
}
