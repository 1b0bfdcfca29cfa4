import { type ErrorCode, GeeCacheError } from "@geecache/core";

/**
 * httpStatusOf is the gateway's one mapping from GeeCache error codes to HTTP statuses. A node
 * that cannot be reached is 503; one that did not answer in time is 504; a source that failed
 * is 502 (the gateway's upstream failed, not the gateway).
 */
export const httpStatusOf: Readonly<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  UNKNOWN_GROUP: 404,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
  // The client went away; nobody reads this status, but the access log should not say 500.
  CANCELED: 499,
  LOAD_FAILED: 502,
  DUPLICATE_GROUP: 500,
  INTERNAL: 500,
};

/** ErrorBody is the JSON body of every error answer: `{"error":{"code","message"}}`. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/**
 * toErrorReply turns anything thrown in a route into a status and a body. GeeCache errors keep
 * their code and message; fastify's own 4xx errors (validation, ...) keep their status and message,
 * under INVALID_ARGUMENT; anything else is a 500 whose message says nothing of the internals.
 */
export function toErrorReply(err: unknown): { status: number; body: ErrorBody; internal: boolean } {
  if (err instanceof GeeCacheError) {
    const status = httpStatusOf[err.code] ?? 500;
    // A source's failure may name internal hosts or URLs: log it, answer a summary.
    const message =
      status === 500
        ? "internal error"
        : err.code === "LOAD_FAILED"
          ? "the data source failed"
          : err.message;
    return { status, body: { error: { code: err.code, message } }, internal: status === 500 };
  }
  const e = err as {
    statusCode?: unknown;
    code?: unknown;
    message?: unknown;
    validation?: unknown;
  };
  if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    // fastify's own codes (FST_ERR_...) are not part of the gateway's stable list.
    return {
      status: e.statusCode,
      body: { error: { code: "INVALID_ARGUMENT", message: String(e.message) } },
      internal: false,
    };
  }
  return {
    status: 500,
    body: { error: { code: "INTERNAL", message: "internal error" } },
    internal: true,
  };
}
