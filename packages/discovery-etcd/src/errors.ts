import { isBrokenCircuitError } from "cockatiel";
import { GRPCDeadlineExceededError } from "etcd3";
import type { NodeRecord } from "./record.ts";

/** DiscoveryErrorCode is the stable code of a DiscoveryError. */
export type DiscoveryErrorCode =
  /** Another live registration (a different lease) holds the node id. */
  | "DUPLICATE_ID"
  /** etcd could not be reached, or did not answer before the call's deadline. */
  | "UNAVAILABLE"
  /** A registration's lease expired or was revoked; the registration re-registers by itself. */
  | "LEASE_LOST"
  /** The discovery, registration or watch was closed. */
  | "CLOSED";

/** DiscoveryError is the one error class of this package, with a stable code and a cause. */
export class DiscoveryError extends Error {
  override name = "DiscoveryError";
  readonly code: DiscoveryErrorCode;
  /** For DUPLICATE_ID: the record that holds the id, if it could be parsed. */
  readonly existing: NodeRecord | undefined;

  constructor(
    code: DiscoveryErrorCode,
    message: string,
    options?: { cause?: unknown; existing?: NodeRecord },
  ) {
    super(message, options);
    this.code = code;
    this.existing = options?.existing;
  }
}

/**
 * unavailable wraps an etcd client failure of a call whose deadline was timeoutMs. Where the
 * client's own words mislead, the message says what happened instead: gRPC reports our deadline
 * as "Deadline exceeded after 0.000s" when it passed before a retry started, and an open circuit
 * breaker as "Execution prevented ...". The cause keeps the original.
 */
export function unavailable(what: string, cause: unknown, timeoutMs: number): DiscoveryError {
  if (cause instanceof DiscoveryError) return cause;
  const reason =
    cause instanceof GRPCDeadlineExceededError
      ? `etcd did not answer within ${timeoutMs} ms`
      : isBrokenCircuitError(cause)
        ? "etcd is unreachable (failing fast after repeated errors)"
        : cause instanceof Error
          ? cause.message
          : String(cause);
  return new DiscoveryError("UNAVAILABLE", `${what}: ${reason}`, { cause });
}
