import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger, Registry } from "@geecache/core";
import { CacheService } from "@geecache/proto";
import { createCacheService } from "./cache-service.ts";
import { createHealthState } from "./health.ts";
import { createNodeHandler } from "./node-handler.ts";
import { checkRange, type Range, TIMER_MS } from "./options.ts";

/**
 * HttpRoutes serves extra HTTP/1.1 routes on the RPC port (e.g. /healthz, /stats) before the
 * Connect handler sees the request. It returns true when it handled the request. HTTP/2
 * requests go straight to the Connect handler.
 */
export type HttpRoutes = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

/**
 * DEFAULT_MAX_TIMEOUT_MS is the longest deadline a cache server accepts by default (its
 * `maxTimeoutMs`): a caller that asks for more gets InvalidArgument, so a client's deadline
 * should be at most this.
 */
export const DEFAULT_MAX_TIMEOUT_MS = 60_000;

/** DEFAULT_MAX_CONCURRENT_STREAMS is the server's `maxConcurrentStreams` by default. */
export const DEFAULT_MAX_CONCURRENT_STREAMS = 256;

/**
 * DEFAULT_IDLE_TIMEOUT_MS is the server's `idleTimeoutMs` by default: 6 minutes, longer than a
 * peer client's own 5-minute idle timeout, so that peers close first.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 6 * 60_000;

/**
 * CacheServerOptions configure startCacheServer. Each duration is in milliseconds, > 0 and
 * <= 2^31-1 (the longest timer Node keeps); startCacheServer rejects with a RangeError (a
 * TypeError for a wrong type) before listening otherwise.
 */
export interface CacheServerOptions {
  /** The groups to serve. */
  registry: Registry;
  /** Interface to listen on; 127.0.0.1 by default. */
  host?: string;
  /** Port to listen on; 0 picks a free one (read it from CacheServer.address). */
  port: number;
  /** Receives connection-level problems at debug/warn level; silent without one. */
  logger?: Logger;
  /** Extra HTTP/1.1 routes, tried before the RPC handler. */
  http?: HttpRoutes;
  /**
   * The id Stats reports: pass the advertised address. Defaults to "host:port" from the host
   * option ("[host]:port" for IPv6), which is wrong when listening on 0.0.0.0.
   */
  nodeId?: string;
  /**
   * Largest accepted request message in bytes, 1 to 2^32-1; 64 KiB by default (requests are
   * a key).
   */
  readMaxBytes?: number;
  /** Longest deadline a client may ask for; DEFAULT_MAX_TIMEOUT_MS (60 s) by default. */
  maxTimeoutMs?: number;
  /** A connection that sends nothing for this long before its first bytes is dropped; 10 s. */
  firstByteTimeoutMs?: number;
  /** An HTTP/1.1 request whose headers take longer than this gets 408; 60 s (Node's default). */
  headersTimeoutMs?: number;
  /** An HTTP/2 connection with no frame for this long is closed gracefully; 6 minutes. */
  idleTimeoutMs?: number;
  /**
   * Streams one HTTP/2 connection may have open at once, 1 to 2^31-1; 256 by default. A peer
   * past it queues its new calls until others end.
   */
  maxConcurrentStreams?: number;
}

/** CloseOptions configure CacheServer.close. */
export interface CloseOptions {
  /**
   * How long in-flight calls may take to finish after close() is called; after that they are
   * cancelled and their connections destroyed. 10,000 ms by default; 0 to 2^31-1 (close
   * rejects with a RangeError otherwise).
   */
  graceMs?: number;
}

/** CacheServer is a running node server: one port for gRPC (h2c) and Connect (HTTP/1.1, h2c). */
export interface CacheServer {
  /** The bound address; the port is the real one when port 0 was asked for. */
  readonly address: { host: string; port: number };
  /**
   * close stops accepting connections, reports NOT_SERVING to health checks, lets in-flight
   * calls finish (up to graceMs), then closes every connection. Safe to call more than once.
   */
  close(options?: CloseOptions): Promise<void>;
}

// Every HTTP/2 connection without TLS starts with this preface (RFC 9113, 3.4); nothing that
// HTTP/1.1 sends does.
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/**
 * startCacheServer serves a Registry on one port: gRPC over h2c for peers, the Connect
 * protocol over HTTP/1.1 and h2c (JSON and binary, POST and GET), gRPC-Web, and the standard
 * grpc.health.v1.Health service. Node's cleartext HTTP/2 server cannot fall back to HTTP/1.1,
 * so a plain TCP server reads each connection's first bytes and hands the socket to an HTTP/2
 * or an HTTP/1.1 server.
 */
export async function startCacheServer(options: CacheServerOptions): Promise<CacheServer> {
  checkServerOptions(options);
  const { logger } = options;
  const host = options.host ?? "127.0.0.1";
  const firstByteTimeoutMs = options.firstByteTimeoutMs ?? 10_000;
  const health = createHealthState([CacheService.typeName]);
  const shutdown = new AbortController();
  let nodeId = options.nodeId;

  const serve = createNodeHandler({
    routes: (router) => {
      createCacheService(options.registry, { nodeId: () => nodeId ?? "" })(router);
      health.routes(router);
    },
    readMaxBytes: options.readMaxBytes ?? 64 * 1024,
    maxTimeoutMs: options.maxTimeoutMs ?? DEFAULT_MAX_TIMEOUT_MS,
    shutdownSignal: shutdown.signal,
    // Connect clients read HTTP 404 as unimplemented; the body tells curl users the same.
    fallback: (req, res) => {
      const body = JSON.stringify({
        code: "unimplemented",
        message: `no RPC at ${req.method} ${req.url?.split("?")[0]}`,
      });
      res.statusCode = 404;
      res.setHeader("content-type", "application/json");
      res.end(body);
    },
    logger,
  });

  let draining = false;
  // In-flight requests per HTTP/1.1 socket, so a drain closes idle keep-alive sockets at once
  // and busy ones after their response.
  const h1InFlight = new Map<net.Socket, number>();
  const h2Sessions = new Set<http2.ServerHttp2Session>();
  // Connections whose first bytes have not arrived yet.
  const sniffing = new Set<net.Socket>();

  const headersTimeoutMs = options.headersTimeoutMs ?? 60_000;
  const h1Options: http.ServerOptions = {
    headersTimeout: headersTimeoutMs,
    requestTimeout: Math.max(300_000, headersTimeoutMs),
    // How often Node checks those timeouts; finer for short ones.
    connectionsCheckingInterval: Math.min(30_000, Math.max(10, headersTimeoutMs / 4)),
  };
  const h1 = http.createServer(h1Options, (req, res) => {
    const socket = req.socket;
    h1InFlight.set(socket, (h1InFlight.get(socket) ?? 0) + 1);
    if (draining) res.setHeader("connection", "close");
    res.once("close", () => {
      const left = (h1InFlight.get(socket) ?? 1) - 1;
      h1InFlight.set(socket, left);
      if (draining && left === 0) socket.destroySoon();
    });
    try {
      if (options.http?.(req, res)) return;
    } catch (reason) {
      logger?.error({ err: reason, url: req.url }, "geecache: http route failed");
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end('{"error":{"code":"INTERNAL","message":"internal error"}}');
      return;
    }
    serve(req, res);
  });
  h1.on("connection", (socket: net.Socket) => {
    h1InFlight.set(socket, 0);
    socket.once("close", () => h1InFlight.delete(socket));
  });

  // Node answers a request its parser refuses (malformed, headers too large, too slow) with a
  // bare status line; give it the JSON error shape every other answer of this port has.
  h1.on("clientError", (err: NodeJS.ErrnoException, socket: net.Socket) => {
    logger?.debug({ err }, "geecache: malformed http/1.1 request");
    // Only between responses: bytes written mid-response would corrupt it for the client.
    if (socket.writable && !h1InFlight.get(socket)) {
      const [status, code, message] = clientErrorReply(err.code);
      const body = JSON.stringify({ code, message });
      socket.write(
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
      // Closed once the answer is written, not before (destroy would drop what is unsent).
      socket.destroySoon();
    } else socket.destroy();
  });

  // Each open stream holds a request, a response and a handler, some 20 KB: without a limit
  // (Node's default is 2^32-1) one connection opening streams it never finishes takes the heap.
  // A client past the limit queues its new streams until others end.
  const h2 = http2.createServer(
    {
      settings: {
        maxConcurrentStreams: options.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS,
      },
    },
    serve,
  );
  // An HTTP/2 connection with no frame for idleTimeoutMs is closed (GOAWAY: calls in flight
  // finish).
  h2.setTimeout(options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
  h2.on("timeout", (session: http2.ServerHttp2Session) => {
    logger?.debug({}, "geecache: closing an idle http/2 connection");
    session.close();
  });
  h2.on("session", (session) => {
    h2Sessions.add(session);
    session.once("close", () => h2Sessions.delete(session));
    if (draining) session.close();
  });
  h2.on("sessionError", (err) => logger?.debug({ err }, "geecache: http/2 session error"));

  const server = net.createServer({ pauseOnConnect: true, noDelay: true }, (socket) => {
    if (draining) {
      socket.destroy();
      return;
    }
    handOver(socket);
  });

  // Reads just enough of a new connection to tell HTTP/2 from HTTP/1.1. It listens on
  // 'readable' and reads, never on 'data': flowing mode would let bytes past the point where
  // the HTTP/2 session takes over the socket's handle. The bytes read go back with unshift,
  // where both servers find them.
  function handOver(socket: net.Socket): void {
    let head = Buffer.alloc(0);
    sniffing.add(socket);
    const cleanup = () => {
      sniffing.delete(socket);
      clearTimeout(timer);
      socket.off("readable", onReadable);
      socket.off("error", onError);
      socket.off("end", onEnd);
    };
    const onError = (err: Error) => {
      cleanup();
      logger?.debug({ err }, "geecache: connection failed before its first request");
      socket.destroy();
    };
    const onEnd = () => {
      cleanup();
      socket.destroy();
    };
    const onReadable = () => {
      for (let chunk = socket.read(); chunk !== null; chunk = socket.read()) {
        head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      }
      const n = Math.min(head.length, H2_PREFACE.length);
      const h2Prefix = head.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (n === 0 || (h2Prefix && n < H2_PREFACE.length)) return; // need more bytes
      cleanup();
      socket.unshift(head);
      (h2Prefix ? h2 : h1).emit("connection", socket);
    };
    const timer = setTimeout(() => {
      cleanup();
      socket.destroy();
    }, firstByteTimeoutMs);
    timer.unref();
    socket.on("error", onError);
    socket.on("end", onEnd);
    socket.on("readable", onReadable);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port: options.port }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (err) => logger?.error({ err }, "geecache: server error"));
  // The HTTP/1.1 server never listens itself, but its header and request timeouts (against
  // slow clients) are only enforced once it has seen 'listening'.
  h1.emit("listening");
  const bound = server.address() as net.AddressInfo;
  const address = { host: bound.address, port: bound.port };
  nodeId ??= host.includes(":") ? `[${host}]:${address.port}` : `${host}:${address.port}`;

  let closing: Promise<void> | undefined;
  const close = ({ graceMs = 10_000 }: CloseOptions = {}): Promise<void> => {
    try {
      checkRange("graceMs", graceMs, GRACE_MS);
    } catch (reason) {
      return Promise.reject(reason);
    }
    closing ??= new Promise<void>((resolve) => {
      draining = true;
      health.setServing(false);
      health.endWatches();
      const force = setTimeout(() => {
        logger?.warn({ graceMs }, "geecache: grace period over, cancelling in-flight calls");
        shutdown.abort(new ConnectError("server is shutting down", Code.Unavailable));
        // A moment for cancelled handlers to send their Unavailable before the sockets go.
        setTimeout(() => {
          for (const session of h2Sessions) session.destroy();
          for (const socket of h1InFlight.keys()) socket.destroy();
        }, 25).unref();
      }, graceMs);
      force.unref();
      // The callback runs once every connection, handed over or not, has closed.
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
      // Stops the HTTP/1.1 server's timeout timer and closes its idle keep-alive sockets.
      h1.close(() => undefined);
      for (const socket of sniffing) socket.destroy();
      for (const session of h2Sessions) session.close();
      for (const [socket, inFlight] of h1InFlight) if (inFlight === 0) socket.destroySoon();
    });
    return closing;
  };

  return { address, close };
}

const PORT: Range = { min: 0, max: 65_535, minClosed: true, integer: true };
const STREAMS: Range = { min: 1, max: 2 ** 31 - 1, minClosed: true, integer: true };
// The largest readMaxBytes connect-es accepts; outside it, it throws a ConnectError.
const READ_MAX_BYTES = { min: 1, max: 2 ** 32 - 1, minClosed: true };
// Zero closes at once, cancelling what is in flight.
const GRACE_MS = { ...TIMER_MS, minClosed: true };

/** The status, Connect error code and message for a request Node's HTTP/1.1 parser refused. */
function clientErrorReply(errorCode: string | undefined): [number, string, string] {
  switch (errorCode) {
    case "HPE_HEADER_OVERFLOW":
      return [431, "resource_exhausted", "request headers too large"];
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return [413, "resource_exhausted", "chunk extensions too large"];
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return [408, "deadline_exceeded", "the request did not complete in time"];
    default:
      return [400, "invalid_argument", "malformed HTTP request"];
  }
}

// Each of these would otherwise pass start-up and break every request later (dropped
// connections, every deadline refused, every call INTERNAL or 500).
function checkServerOptions(options: CacheServerOptions): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`options must be an object, got ${String(options)}`);
  }
  const { registry, http: routes } = options as Partial<CacheServerOptions>;
  if (
    typeof registry !== "object" ||
    registry === null ||
    typeof registry.get !== "function" ||
    typeof registry.stats !== "function"
  ) {
    throw new TypeError(
      `registry must be a Registry (from createRegistry), got ${registry === null ? "null" : typeof registry}`,
    );
  }
  if (routes !== undefined && typeof routes !== "function") {
    throw new TypeError(`http must be a function, got ${routes === null ? "null" : typeof routes}`);
  }
  // Node would take "8001" as a port, and throw its own error, without the option's name, for 1.5.
  checkRange("port", options.port, PORT);
  if (options.maxConcurrentStreams !== undefined) {
    checkRange("maxConcurrentStreams", options.maxConcurrentStreams, STREAMS);
  }
  for (const name of [
    "firstByteTimeoutMs",
    "maxTimeoutMs",
    "headersTimeoutMs",
    "idleTimeoutMs",
  ] as const) {
    if (options[name] !== undefined) checkRange(name, options[name]);
  }
  if (options.readMaxBytes !== undefined) {
    checkRange("readMaxBytes", options.readMaxBytes, READ_MAX_BYTES);
  }
}
