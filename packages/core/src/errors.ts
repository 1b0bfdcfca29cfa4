/**
 * ErrorCode is the stable code of a GeeCacheError. Transports map these to wire codes
 * (Connect: not_found, invalid_argument, unavailable, deadline_exceeded, ...) and the gateway
 * maps them to HTTP statuses, in one place each.
 */
export type ErrorCode =
  /** The getter (or the owner peer) reports that the key does not exist at the source. */
  | "NOT_FOUND"
  /** Empty key, key over the maximum length, bad option values. */
  | "INVALID_ARGUMENT"
  /** No group with that name is registered. */
  | "UNKNOWN_GROUP"
  /** A group with that name is already registered. */
  | "DUPLICATE_GROUP"
  /** A peer could not be reached or refused the call. */
  | "UNAVAILABLE"
  /** A deadline passed before the value arrived. */
  | "DEADLINE_EXCEEDED"
  /** The call was cancelled by its caller. */
  | "CANCELED"
  /** The getter failed (anything other than not found). */
  | "LOAD_FAILED"
  /** A bug or an unexpected condition. */
  | "INTERNAL";

/** Marks GeeCacheErrors across copies of this package (one registry key for all of them). */
const brand = Symbol.for("@geecache/core:GeeCacheError");

/**
 * GeeCacheError is the one error class of GeeCache, with a stable code and an optional cause.
 * `instanceof GeeCacheError` also holds for errors made by another copy of @geecache/core in the
 * same process (a package manager may install two), so an owner's NOT_FOUND stays final.
 */
export class GeeCacheError extends Error {
  override name = "GeeCacheError";
  readonly code: ErrorCode;

  static override [Symbol.hasInstance](value: unknown): boolean {
    return (
      typeof value === "object" &&
      value !== null &&
      (value as { [brand]?: unknown })[brand] === true
    );
  }

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** from normalizes anything thrown into a GeeCacheError, keeping it as the cause. */
  static from(reason: unknown, code: ErrorCode = "INTERNAL"): GeeCacheError {
    if (reason instanceof GeeCacheError) return reason;
    if (reason instanceof Error) {
      if (reason.name === "AbortError")
        return new GeeCacheError("CANCELED", reason.message, { cause: reason });
      if (reason.name === "TimeoutError") {
        return new GeeCacheError("DEADLINE_EXCEEDED", reason.message, { cause: reason });
      }
      return new GeeCacheError(code, reason.message, { cause: reason });
    }
    return new GeeCacheError(code, String(reason), { cause: reason });
  }
}

Object.defineProperty(GeeCacheError.prototype, brand, { value: true });

/**
 * isDeadline says whether an abort reason means that time ran out: AbortSignal.timeout's
 * TimeoutError, or a GeeCacheError DEADLINE_EXCEEDED.
 */
export function isDeadline(reason: unknown): boolean {
  return (
    (reason instanceof GeeCacheError && reason.code === "DEADLINE_EXCEEDED") ||
    (reason instanceof Error && reason.name === "TimeoutError")
  );
}
