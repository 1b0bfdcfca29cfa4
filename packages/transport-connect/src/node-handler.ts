import type * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { Code, ConnectError, type ConnectRouter, createConnectRouter } from "@connectrpc/connect";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { Logger } from "@geecache/core";
import { MAX_TIMER_MS } from "./options.ts";

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;

/** NodeHandlerOptions configure createNodeHandler. */
export interface NodeHandlerOptions {
  routes(router: ConnectRouter): void;
  readMaxBytes: number;
  maxTimeoutMs: number;
  shutdownSignal: AbortSignal;
  /** Answers requests for paths with no RPC. */
  fallback(req: Request, res: Response): void;
  logger: Logger | undefined;
}

/** How long past its deadline a call may still hold its stream or connection. */
const SLACK_MS = 1_000;

/**
 * createNodeHandler serves Connect routes to Node's HTTP/1.1 and HTTP/2 servers. It does what
 * connect-node's connectNodeAdapter does, and two things that adapter does not, each of which
 * let one client hold or break a node:
 * - A call's deadline (or maxTimeoutMs without one) bounds the whole exchange (a streaming
 *   call's request only). connect-es only starts the deadline once it has the request message,
 *   so a client that never finished its body, or never read the response, held the stream for
 *   ever (HTTP/2) or for minutes (HTTP/1.1).
 * - Failures go to the logger: the adapter writes each one, a client's cancel included, to the
 *   console with a stack.
 */
export function createNodeHandler(
  options: NodeHandlerOptions,
): (req: Request, res: Response) => void {
  const { maxTimeoutMs, logger } = options;
  const router = createConnectRouter({
    readMaxBytes: options.readMaxBytes,
    maxTimeoutMs,
    shutdownSignal: options.shutdownSignal,
    acceptCompression: [compressionGzip, compressionBrotli],
  });
  options.routes(router);
  const paths = new Map(router.handlers.map((h) => [h.requestPath, h]));

  return (req, res) => {
    const handler = paths.get(req.url?.split("?", 1)[0] ?? "");
    if (handler === undefined) {
      options.fallback(req, res);
      return;
    }
    fixAuthority(req);
    const limit = setTimeout(cutOff, deadlineMs(req, maxTimeoutMs) + SLACK_MS, req, res, logger);
    limit.unref();
    res.once("close", () => clearTimeout(limit));
    // A stream's response (a health Watch) may rightly last: only its request is bounded.
    if (handler.method.methodKind !== "unary") req.once("end", () => clearTimeout(limit));
    let uReq: ReturnType<typeof universalRequestFromNodeRequest>;
    try {
      uReq = universalRequestFromNodeRequest(req, res, undefined, undefined);
    } catch (reason) {
      logger?.error({ err: reason, url: req.url }, "geecache: request could not be handled");
      internalError(res);
      return;
    }
    handler(uReq)
      .then((uRes) => universalResponseToNodeResponse(uRes, res))
      .catch((reason: unknown) => {
        const err = ConnectError.from(reason);
        const rpc = `${handler.service.typeName}/${handler.method.name}`;
        // A client that cancels, or goes away mid-response, is routine (peers cancel calls
        // they no longer need); the write then fails on a closed stream.
        const gone = isHttp2(req) ? req.stream.closed : res.destroyed;
        if (err.code === Code.Aborted || err.code === Code.Canceled || gone) {
          logger?.debug({ err, rpc }, "geecache: call ended by the client");
        } else {
          logger?.warn({ err, rpc }, "geecache: call failed");
        }
      });
  };
}

function isHttp2(req: Request): req is http2.Http2ServerRequest {
  return req.httpVersionMajor >= 2;
}

/** The last authority that parsed (starts with one that does, so that "" or none never match). */
let lastParsed = "localhost";

/**
 * connect-node builds each request's URL from its Host (HTTP/1.1) or :authority (HTTP/2) and
 * throws, outside any promise, when it cannot: a missing Host (HTTP/1.0), a malformed one, or an
 * unbracketed IPv6 address, which Node's own HTTP/2 client sends for "[::1]:port". The service
 * never reads the authority, so one it cannot parse becomes the address the connection came in on.
 */
function fixAuthority(req: Request): void {
  const key = isHttp2(req) ? ":authority" : "host";
  const authority = req.headers[key];
  // Peers send one authority on every call: it is parsed once, not per request.
  if (authority === lastParsed) return;
  if (typeof authority === "string" && URL.canParse(`http://${authority}/`)) {
    lastParsed = authority;
    return;
  }
  const local = req.socket.localAddress ?? "127.0.0.1";
  req.headers[key] = `${net.isIPv6(local) ? `[${local}]` : local}:${req.socket.localPort}`;
}

const GRPC_UNITS: Record<string, number> = {
  H: 3_600_000,
  M: 60_000,
  S: 1_000,
  m: 1,
  u: 1e-3,
  n: 1e-6,
};

/**
 * The call's deadline from grpc-timeout or connect-timeout-ms, at most maxTimeoutMs; maxTimeoutMs
 * without one. A malformed header gets maxTimeoutMs too: connect-es refuses the call at once.
 *
 * connect-es arms a timer with the client's timeout before it refuses one over maxTimeoutMs, and
 * Node prints a TimeoutOverflowWarning to stderr for each timer past MAX_TIMER_MS: one line per
 * request a client chose to send so. Such a header is rewritten to the longest timer, which
 * connect-es refuses as it would have the original (unless maxTimeoutMs is within a second of
 * MAX_TIMER_MS: then the call gets that deadline, which no timer could have exceeded anyway).
 */
function deadlineMs(req: Request, maxTimeoutMs: number): number {
  const grpc = req.headers["grpc-timeout"];
  const connect = req.headers["connect-timeout-ms"];
  let ms = maxTimeoutMs;
  if (typeof grpc === "string") {
    const m = /^(\d{1,8})([HMSmun])$/.exec(grpc);
    if (m !== null) ms = Number(m[1]) * GRPC_UNITS[m[2]!]!;
    // grpc-timeout has eight digits at most: whole seconds are the closest it gets.
    if (ms > MAX_TIMER_MS) req.headers["grpc-timeout"] = `${Math.floor(MAX_TIMER_MS / 1_000)}S`;
  } else if (typeof connect === "string" && /^\d{1,10}$/.test(connect)) {
    ms = Number(connect);
    if (ms > MAX_TIMER_MS) req.headers["connect-timeout-ms"] = String(MAX_TIMER_MS);
  }
  return Math.min(ms, maxTimeoutMs);
}

/** Ends an exchange that outlived its deadline: a stalled body, or a response nobody reads. */
function cutOff(req: Request, res: Response, logger: Logger | undefined): void {
  logger?.debug({ url: req.url }, "geecache: call outlived its deadline, cutting it off");
  if (isHttp2(req)) {
    req.stream.close(http2.constants.NGHTTP2_CANCEL);
  } else if (!res.headersSent) {
    res.statusCode = 408;
    res.setHeader("content-type", "application/json");
    res.setHeader("connection", "close");
    res.end('{"code":"deadline_exceeded","message":"the request did not complete in time"}');
  } else {
    req.socket.destroy();
  }
}

function internalError(res: Response): void {
  if (!res.headersSent) {
    res.statusCode = 500;
    res.setHeader("content-type", "application/json");
  }
  res.end('{"code":"internal","message":"internal error"}');
}
