import { Code, ConnectError } from "@connectrpc/connect";
import { type ErrorCode, GeeCacheError } from "@geecache/core";

/**
 * ERROR_CODE_HEADER carries the exact GeeCacheError code next to the Connect code, so a peer
 * client can tell UNKNOWN_GROUP from NOT_FOUND (both travel as Connect `not_found`). On gRPC it
 * is a trailer, on the Connect protocol a response header.
 */
export const ERROR_CODE_HEADER = "geecache-error-code";

// The one table from GeeCache codes to Connect codes. LOAD_FAILED travels as Unavailable: the
// owner's source failed, which a caller may retry or report as a bad gateway, not a bug.
const toConnect: Record<ErrorCode, Code> = {
  NOT_FOUND: Code.NotFound,
  INVALID_ARGUMENT: Code.InvalidArgument,
  UNKNOWN_GROUP: Code.NotFound,
  DUPLICATE_GROUP: Code.AlreadyExists,
  UNAVAILABLE: Code.Unavailable,
  DEADLINE_EXCEEDED: Code.DeadlineExceeded,
  CANCELED: Code.Canceled,
  LOAD_FAILED: Code.Unavailable,
  INTERNAL: Code.Internal,
};

// And back, for errors without our header (another implementation, or Connect itself:
// a refused connection is Unavailable, a passed deadline DeadlineExceeded). Everything that
// means "this peer cannot serve the call" becomes UNAVAILABLE so core falls back to a local load.
const fromConnect: Record<Code, ErrorCode> = {
  [Code.Canceled]: "CANCELED",
  [Code.Unknown]: "UNAVAILABLE",
  [Code.InvalidArgument]: "INVALID_ARGUMENT",
  [Code.DeadlineExceeded]: "DEADLINE_EXCEEDED",
  [Code.NotFound]: "NOT_FOUND",
  [Code.AlreadyExists]: "DUPLICATE_GROUP",
  [Code.PermissionDenied]: "UNAVAILABLE",
  [Code.ResourceExhausted]: "UNAVAILABLE",
  [Code.FailedPrecondition]: "INVALID_ARGUMENT",
  [Code.Aborted]: "UNAVAILABLE",
  [Code.OutOfRange]: "INVALID_ARGUMENT",
  [Code.Unimplemented]: "UNAVAILABLE",
  [Code.Internal]: "INTERNAL",
  [Code.Unavailable]: "UNAVAILABLE",
  [Code.DataLoss]: "INTERNAL",
  [Code.Unauthenticated]: "UNAVAILABLE",
};

function isErrorCode(value: string | null): value is ErrorCode {
  return value !== null && Object.hasOwn(toConnect, value);
}

/**
 * toConnectError turns anything a handler throws into the ConnectError that goes on the wire,
 * keeping the GeeCache code in the geecache-error-code header. The messages of LOAD_FAILED,
 * INTERNAL and of anything that is not a GeeCacheError are not sent, so no internals leak.
 */
export function toConnectError(reason: unknown): ConnectError {
  if (reason instanceof ConnectError) return reason;
  if (!(reason instanceof GeeCacheError)) {
    return new ConnectError("internal error", Code.Internal, { [ERROR_CODE_HEADER]: "INTERNAL" });
  }
  // A getter's own error message may carry internals (hosts, queries); it stays in the cause
  // and the owner's logs, and the wire gets a generic message.
  const message =
    reason.code === "LOAD_FAILED"
      ? "loading the key from the source failed"
      : reason.code === "INTERNAL"
        ? "internal error"
        : reason.message;
  return new ConnectError(
    message,
    toConnect[reason.code],
    { [ERROR_CODE_HEADER]: reason.code },
    undefined,
    reason,
  );
}

/**
 * fromConnectError turns a failed call into the GeeCacheError that core expects from a
 * PeerGetter: the exact code from the geecache-error-code header when the peer sent one,
 * otherwise the mapped Connect code. The message names the peer.
 */
export function fromConnectError(reason: unknown, peer: string): GeeCacheError {
  if (reason instanceof GeeCacheError) return reason;
  const err = ConnectError.from(reason);
  const header = err.metadata.get(ERROR_CODE_HEADER);
  const code = isErrorCode(header) ? header : fromConnect[err.code];
  return new GeeCacheError(code, `peer ${peer}: ${err.rawMessage}`, { cause: err });
}

/** connectCodeOf returns the Connect code that a GeeCache code travels as. */
export function connectCodeOf(code: ErrorCode): Code {
  return toConnect[code];
}
