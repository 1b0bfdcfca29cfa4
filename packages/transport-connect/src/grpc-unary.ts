import * as http2 from "node:http2";
import {
  create,
  type DescMessage,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Http2SessionManager } from "@connectrpc/connect-node";
import { isDeadline } from "@geecache/core";
import type { CallSlots } from "./call-slots.ts";
import { ERROR_CODE_HEADER } from "./error-codes.ts";

/**
 * The longest deadline a peer can be sent: grpc-timeout holds at most 8 digits, and connect-es
 * servers, which time it with setTimeout, cannot honour a coarser unit's 2^31 ms or more.
 */
export const MAX_GRPC_TIMEOUT_MS = 99_999_999;

/**
 * grpcUnary makes one unary gRPC call on a session of connect-node's Http2SessionManager, which
 * keeps the connection (connects, reconnects, pings, closes when idle); only the call is made
 * here. It exists for the peer path, the one call every cache miss on a non-owner and every
 * gateway request makes. connect-es's generic client spends most of its CPU on async-iterable
 * plumbing and on errors built per call only to close its streams: `pnpm bench` in this package
 * measures a call, client and server together, at about 0.6× the CPU of the generic client's.
 *
 * It rejects with a ConnectError, as connect-es's client would: the grpc-status and message the
 * peer sent, with the geecache-error-code trailer as metadata; DeadlineExceeded at the deadline
 * (also sent to the peer as grpc-timeout, in milliseconds: timeoutMs must not exceed
 * MAX_GRPC_TIMEOUT_MS); Canceled when signal aborts; Unavailable when the peer cannot be
 * reached or resets the stream. A call waits in slots for a stream the server allows; the
 * deadline counts from the call, waiting included.
 */
export function grpcUnary<I extends DescMessage, O extends DescMessage>(
  sessions: Http2SessionManager,
  slots: CallSlots,
  path: string,
  input: I,
  output: O,
  message: MessageInitShape<I>,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<MessageShape<O>> {
  if (signal?.aborted) return Promise.reject(canceled(signal));
  const body = toBinary(input, create(input, message));
  const frame = Buffer.allocUnsafe(5 + body.byteLength);
  frame[0] = 0;
  frame.writeUInt32BE(body.byteLength, 1);
  frame.set(body, 5);

  return new Promise((resolve, reject) => {
    let stream: http2.ClientHttp2Stream | undefined;
    let settled = false;
    // Whether this call holds one of the connection's slots (from grant until its stream closes).
    let holding = false;
    const release = () => {
      if (!holding) return;
      holding = false;
      slots.give();
    };
    const deadlineAt = performance.now() + timeoutMs;
    const finish = (error: ConnectError | undefined, value?: MessageShape<O>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      withdraw();
      if (error === undefined) {
        resolve(value!);
        return;
      }
      if (stream !== undefined) abandon(stream);
      reject(error);
    };
    // Whether the call ran out of time (its own deadline, or a caller's signal that timed out)
    // rather than being cancelled.
    let timedOut = false;
    // Ends this call's stream once nobody waits for it.
    const abandon = (s: http2.ClientHttp2Stream) => {
      if (s.closed) return;
      if (timedOut) {
        // The peer has the same deadline (grpc-timeout) and ends the call itself; resetting
        // every stream that times out would add to a burst of resets (see CallSlots). One
        // the peer has not ended a second later is reset then: the peer is hung.
        const late = setTimeout(() => s.close(http2.constants.NGHTTP2_CANCEL), LATE_RESET_MS);
        late.unref();
        s.once("close", () => clearTimeout(late));
      } else {
        // Resetting with CANCEL tells the peer to stop working on a call nobody waits for.
        s.close(http2.constants.NGHTTP2_CANCEL);
      }
    };
    const onAbort = () => {
      // A caller's deadline (core's peer timeout, the gateway's request timeout) ends the call
      // as its own deadline would: the peer ends it too.
      timedOut = isDeadline(signal!.reason);
      finish(canceled(signal!));
    };
    const timer = setTimeout(() => {
      timedOut = true;
      finish(new ConnectError("the operation timed out", Code.DeadlineExceeded));
    }, timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });

    // A server refuses streams past its concurrency limit. A new connection's first calls go
    // out before the server's SETTINGS have said what that limit is; a refused stream was not
    // processed (RFC 9113, 8.7), and by the time it is refused the limit is known, so the
    // call is sent again, in a slot of its own.
    const send = (refusals: number) => {
      // The time left, not the call's whole deadline: it may have waited for its slot.
      const leftMs = Math.max(1, Math.ceil(deadlineAt - performance.now()));
      // The session manager adds :method and :path.
      const headers: http2.OutgoingHttpHeaders = {
        "content-type": "application/grpc+proto",
        te: "trailers",
        "grpc-timeout": `${leftMs}m`,
      };
      sessions.request("POST", path, headers, {}).then(
        (s) => {
          stream = s;
          s.once("close", release);
          if (settled) {
            // Sent as the call ended: the request goes out whole, so a peer given the time
            // left ends it at once rather than wait for a body.
            if (timedOut) s.end(frame);
            abandon(s);
            return;
          }
          const refused =
            refusals < MAX_REFUSALS
              ? () => {
                  if (!settled) withdraw = slots.take(() => grant(refusals + 1));
                }
              : undefined;
          read(s, sessions, output, finish, refused);
          s.end(frame);
        },
        (reason: unknown) => {
          release();
          finish(unavailable(reason));
        },
      );
    };
    const grant = (refusals: number) => {
      holding = true;
      if (settled) release();
      else if (slots.closed) {
        // The client closed: its connection is gone, and a call must not open another.
        release();
        finish(new ConnectError("client closed", Code.Unavailable));
      } else send(refusals);
    };
    let withdraw = noop;
    withdraw = slots.take(() => grant(0));
  });
}

/** How long past its deadline a call's stream is left for the peer to end, before it is reset. */
const LATE_RESET_MS = 1_000;

const noop = () => {};

/** How many times one call is sent again after the server refused its stream. */
const MAX_REFUSALS = 3;

function read<O extends DescMessage>(
  stream: http2.ClientHttp2Stream,
  sessions: Http2SessionManager,
  output: O,
  finish: (error: ConnectError | undefined, value?: MessageShape<O>) => void,
  refused: (() => void) | undefined,
): void {
  const wasRefused = () =>
    refused !== undefined && stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM;
  let head: http2.IncomingHttpHeaders | undefined;
  let trailers: http2.IncomingHttpHeaders | undefined;
  const chunks: Buffer[] = [];
  stream.on("response", (h) => {
    head = h;
  });
  stream.on("trailers", (t) => {
    trailers = t;
  });
  stream.on("data", (chunk: Buffer) => {
    chunks.push(chunk);
    sessions.notifyResponseByteRead(stream);
  });
  stream.on("error", (e) => {
    if (!wasRefused()) finish(unavailable(e));
  });
  stream.on("close", () => {
    if (head === undefined && wasRefused()) {
      refused!();
      return;
    }
    if (head === undefined) {
      finish(new ConnectError(`stream closed (HTTP/2 code ${stream.rstCode})`, Code.Unavailable));
      return;
    }
    const httpStatus = Number(head[":status"]);
    if (httpStatus !== 200) {
      finish(new ConnectError(`HTTP ${httpStatus}`, httpStatusCode(httpStatus)));
      return;
    }
    // A trailers-only response (errors) carries the status in its headers.
    const status = trailers ?? head;
    const grpcStatus = status["grpc-status"];
    if (grpcStatus === undefined) {
      finish(new ConnectError("missing grpc-status", Code.Unavailable));
      return;
    }
    if (grpcStatus !== "0") {
      const raw = status["grpc-message"];
      const message = typeof raw === "string" ? decodeMessage(raw) : "";
      // The exact GeeCache code rides in a trailer; fromConnectError reads it from the metadata.
      const exact = status[ERROR_CODE_HEADER];
      const metadata = typeof exact === "string" ? { [ERROR_CODE_HEADER]: exact } : undefined;
      const code = Number(grpcStatus);
      finish(new ConnectError(message, code in Code ? (code as Code) : Code.Unknown, metadata));
      return;
    }
    const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    if (data.byteLength < 5 || data.readUInt32BE(1) !== data.byteLength - 5) {
      finish(new ConnectError("malformed response message", Code.Internal));
      return;
    }
    if ((data[0]! & 1) !== 0) {
      finish(new ConnectError("compressed response, none was asked for", Code.Internal));
      return;
    }
    let value: MessageShape<O>;
    try {
      value = fromBinary(output, data.subarray(5));
    } catch (e) {
      finish(new ConnectError(`bad response message: ${String(e)}`, Code.Internal));
      return;
    }
    finish(undefined, value);
  });
}

function canceled(signal: AbortSignal): ConnectError {
  return ConnectError.from(signal.reason ?? "operation was aborted", Code.Canceled);
}

function unavailable(reason: unknown): ConnectError {
  return reason instanceof ConnectError ? reason : ConnectError.from(reason, Code.Unavailable);
}

/** The gRPC spec's mapping for HTTP statuses of responses that are not gRPC at all. */
function httpStatusCode(status: number): Code {
  switch (status) {
    case 400:
      return Code.Internal;
    case 401:
      return Code.Unauthenticated;
    case 403:
      return Code.PermissionDenied;
    case 404:
      return Code.Unimplemented;
    case 429:
    case 502:
    case 503:
    case 504:
      return Code.Unavailable;
    default:
      return Code.Unknown;
  }
}

/** grpc-message is percent-encoded; a malformed one is shown as sent. */
function decodeMessage(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
