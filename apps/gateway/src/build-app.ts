import { isUtf8 } from "node:buffer";
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { PROMETHEUS_CONTENT_TYPE } from "@geecache/cli";
import {
  createSharedLoads,
  GeeCacheError,
  type PeerGetRequest,
  type PeerGetResponse,
} from "@geecache/core";
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyServerOptions,
  LogController,
} from "fastify";
import { toErrorReply } from "./errors.ts";
import { createGatewayMetrics } from "./metrics.ts";

/** GatewayPeer is one node as the gateway calls it; transport-connect's PeerClient is one. */
export interface GatewayPeer {
  readonly id: string;
  get(
    request: PeerGetRequest,
    options?: { signal?: AbortSignal; forwarded?: boolean; timeoutMs?: number },
  ): Promise<PeerGetResponse>;
}

/**
 * GatewayRing is what the gateway needs of the cluster: the nodes to ask for a key, owner first
 * (transport-connect's ring picker with no self), the owner's address, and every node's address.
 */
export interface GatewayRing {
  pickPeers(key: string, n: number): GatewayPeer[];
  ownerOf(key: string): string | undefined;
  peers(): string[];
  /** The nodes taken out of use for failing (they are asked last). */
  downPeers(): string[];
}

/** GatewayOptions configure buildGateway. */
export interface GatewayOptions {
  ring: GatewayRing;
  /** Reads one node's stats (the Stats RPC), for GET /api/stats. */
  nodeStats: (address: string, options: { signal: AbortSignal }) => Promise<unknown>;
  /** Group used when the request names none; "scores" by default. */
  defaultGroup?: string;
  /** Deadline of one request, retries on the next node included; 2,000 ms by default. */
  timeoutMs?: number;
  /** Longest key accepted, in UTF-8 bytes; 1,024 by default (core's default too). */
  maxKeyBytes?: number;
  /** How many nodes to try for a key when the owner is unavailable; 2 by default. */
  attempts?: number;
  /** fastify's logger options or a pino instance (`loggerInstance`); off by default. */
  logger?: FastifyServerOptions["logger"];
  loggerInstance?: FastifyServerOptions["loggerInstance"];
  /** Log every request and response at info level; true by default. */
  accessLog?: boolean;
}

/** ValueBody is the answer of GET /api. */
export interface ValueBody {
  key: string;
  group: string;
  /** The value as UTF-8 text, or base64 when it is not valid UTF-8 (then `encoding` says so). */
  value: string;
  encoding?: "base64";
  /** When the value expires at its source, in Unix epoch milliseconds. */
  expiresAtMs?: number;
}

/** NodeStatsEntry is one node's line in GET /api/stats. */
export type NodeStatsEntry =
  | { address: string; ok: true; stats: unknown }
  | { address: string; ok: false; error: { code: string; message: string } };

const valueQuery = {
  type: "object",
  properties: { key: { type: "string" }, group: { type: "string" } },
  required: ["key"],
  additionalProperties: false,
} as const;

/**
 * buildGateway creates the gateway's fastify app (not listening): `GET /api?key=K[&group=G]`
 * routed to the key's owner over gRPC, `GET /api/stats` gathered from every node, and `/healthz`
 * (503 while the ring has no node).
 * Errors answer `{"error":{"code","message"}}` with the status from httpStatusOf.
 */
export function buildGateway(options: GatewayOptions): FastifyInstance {
  const { ring, nodeStats } = options;
  const defaultGroup = options.defaultGroup ?? "scores";
  const timeoutMs = options.timeoutMs ?? 2_000;
  const maxKeyBytes = options.maxKeyBytes ?? 1024;
  const attempts = options.attempts ?? 2;
  // Concurrent requests for one key share one call to the cluster: a burst for a hot key costs
  // one stream to its owner, not one per request, so it cannot fill the connection's streams
  // and hold up other keys. The call is cancelled only when every client waiting for it left.
  const inflight = createSharedLoads();
  // By key, the call in flight that new requests join (older calls may still be answering).
  const current = new Map<string, CallState>();
  let nextCall = 0;
  const metrics = createGatewayMetrics(ring);

  const app = Fastify({
    ...(options.loggerInstance === undefined
      ? { logger: options.logger ?? false }
      : { loggerInstance: options.loggerInstance }),
    // Every answer is `{"error":{"code","message"}}`, also the ones fastify and Node's parser
    // would otherwise give in their own shapes: a bad URL, an unparsable request, headers over
    // the limit, and the 503 while closing (the onRequest hook below).
    return503OnClosing: false,
    frameworkErrors: (err, _request, reply) => {
      (reply as FastifyReply)
        .code(400)
        .send({ error: { code: "INVALID_ARGUMENT", message: err.message } });
    },
    clientErrorHandler: answerClientError,
    ...(options.accessLog === false
      ? { logController: new LogController({ disableRequestLogging: true }) }
      : {}),
    // fastify's default silently drops unknown query parameters; a typo such as ?grup= should be
    // a 400, not a lookup in the default group.
    ajv: { customOptions: { removeAdditional: false } },
  });

  // No route takes a body: none is parsed, so a POST with broken JSON is a 405 (or 404), not a
  // JSON error, and no body is buffered.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, _payload, done) => done(null));

  let closing = false;
  app.addHook("preClose", (done) => {
    closing = true;
    done();
  });
  app.addHook("onRequest", (_request, reply, done) => {
    if (!closing) return done();
    reply
      .code(503)
      .header("connection", "close")
      .send({ error: { code: "UNAVAILABLE", message: "the gateway is shutting down" } });
  });

  app.addHook("onResponse", (request, reply, done) => {
    metrics.responded(request.routeOptions.url, reply.statusCode, reply.elapsedTime);
    done();
  });

  app.setErrorHandler((err, request, reply) => {
    const { status, body, internal } = toErrorReply(err);
    const { key, group } = (request.query ?? {}) as { key?: unknown; group?: unknown };
    if (internal) request.log.error({ err, key, group }, "request failed");
    else if (body.error.code === "CANCELED") {
      request.log.info({ key, group }, "client went away before the answer");
    } else if (status >= 500) {
      const cause = (err as Error).cause;
      request.log.warn(
        {
          code: body.error.code,
          key,
          group,
          reason: (err as Error).message,
          ...(cause instanceof Error ? { cause: cause.message } : {}),
        },
        "upstream failed",
      );
    }
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0]!;
    // Every route is GET (HEAD comes with it): a POST to /api names a resource that exists.
    if (request.method !== "GET" && app.hasRoute({ method: "GET", url: path })) {
      return reply
        .code(405)
        .header("allow", "GET, HEAD")
        .send({
          error: {
            code: "METHOD_NOT_ALLOWED",
            message: `${request.method} ${path} is not allowed; use GET`,
          },
        });
    }
    return reply.code(404).send({
      error: { code: "ROUTE_NOT_FOUND", message: `no route ${request.method} ${path}` },
    });
  });

  // A gateway that knows no node can serve nothing: a load balancer must not send it traffic.
  // Nodes out of use (down) still count: the gateway asks them when nobody else can answer.
  app.get("/healthz", async (_request, reply) => {
    const nodes = ring.peers().length;
    const down = ring.downPeers();
    if (nodes > 0) return { status: "ok", nodes, down };
    return reply.code(503).send({
      status: "unavailable",
      nodes,
      down,
      error: { code: "UNAVAILABLE", message: NO_NODES },
    });
  });

  app.get<{ Querystring: { key: string; group?: string } }>(
    "/api",
    { schema: { querystring: valueQuery } },
    async (request, reply) => {
      const { key } = request.query;
      // The query parser keeps a malformed escape as text ("%ZZ" would be the key "%ZZ", the
      // same key as "%25ZZ"); refuse it as the path's parser does.
      const query = request.url.slice(request.url.indexOf("?") + 1);
      if (!isWellEncoded(query)) {
        throw new GeeCacheError("INVALID_ARGUMENT", "the query string has a malformed %-escape");
      }
      if (request.query.group === "") throw new GeeCacheError("INVALID_ARGUMENT", "group is empty");
      const group = request.query.group ?? defaultGroup;
      if (Buffer.byteLength(group) > MAX_GROUP_BYTES) {
        throw new GeeCacheError("INVALID_ARGUMENT", `group is over ${MAX_GROUP_BYTES} bytes`);
      }
      if (key === "") throw new GeeCacheError("INVALID_ARGUMENT", "key is empty");
      const keyBytes = Buffer.byteLength(key);
      if (keyBytes > maxKeyBytes) {
        throw new GeeCacheError(
          "INVALID_ARGUMENT",
          `key is ${keyBytes} bytes, over the ${maxKeyBytes}-byte maximum`,
        );
      }
      // A client that hangs up stops waiting; when it was the last one waiting for the key, the
      // call to the node is cancelled (a load it started goes on there while others wait for it).
      const gone = new AbortController();
      reply.raw.once("close", () => {
        if (!reply.raw.writableFinished) {
          gone.abort(new GeeCacheError("CANCELED", "the client went away"));
        }
      });
      const got = await lookup(group, key, gone.signal, request.log);
      const bytes = Buffer.from(got.value.buffer, got.value.byteOffset, got.value.byteLength);
      const body: ValueBody = isUtf8(bytes)
        ? { key, group, value: bytes.toString("utf8") }
        : { key, group, value: bytes.toString("base64"), encoding: "base64" };
      if (got.expiresAtMs !== undefined) body.expiresAtMs = got.expiresAtMs;
      return reply.send(body);
    },
  );

  app.get("/metrics", async (_request, reply) =>
    reply.type(PROMETHEUS_CONTENT_TYPE).header("cache-control", "no-store").send(metrics.text()),
  );

  app.get("/api/stats", async () => {
    const addresses = ring.peers();
    const signal = AbortSignal.timeout(timeoutMs);
    const settled = await Promise.allSettled(addresses.map((a) => nodeStats(a, { signal })));
    const nodes: NodeStatsEntry[] = settled.map((r, i) => {
      const address = addresses[i]!;
      if (r.status === "fulfilled") return { address, ok: true, stats: r.value };
      const e = GeeCacheError.from(r.reason, "UNAVAILABLE");
      // This route's own deadline aborts the calls, which a peer client reports as CANCELED.
      if (e.code === "CANCELED" && signal.aborted) {
        const message = `no answer within ${timeoutMs} ms`;
        return { address, ok: false, error: { code: "DEADLINE_EXCEEDED", message } };
      }
      return { address, ok: false, error: { code: e.code, message: e.message } };
    });
    return { nodes };
  });

  // One request's wait for its key, until the answer or its own deadline. It joins the call
  // for the key that new requests join, unless that call asks the node for much less time than
  // this request has: then it starts the next call, which later requests join. So a burst for a
  // key shares a call, and for a key slower to load than --timeout, calls overlap (at most about
  // two at a time), which keeps the node's load going for the requests still waiting, as one
  // call per request did. A request that outlives the call it joined makes another.
  async function lookup(
    group: string,
    key: string,
    gone: AbortSignal,
    log: { warn(obj: object, msg?: string): void },
  ): Promise<PeerGetResponse> {
    metrics.lookups++;
    const flight = `${group.length}:${group}${key}`;
    const deadlineAt = performance.now() + timeoutMs;
    let call: CallState | undefined;
    const deadline = new AbortController();
    const timer = setTimeout(() => {
      // The node's address is for the log (the cause), not for the public answer.
      const detail = `last asked ${call?.asking ?? "no node"}: ${call?.lastError ?? "no answer yet"}`;
      deadline.abort(
        new GeeCacheError("DEADLINE_EXCEEDED", `no answer within ${timeoutMs} ms`, {
          cause: new Error(detail),
        }),
      );
    }, timeoutMs);
    const signal = AbortSignal.any([gone, deadline.signal]);
    // The calls this request waits for: it moves on to the next call before the one it joined
    // runs out, and stays in the old one meanwhile, so the node never sees every call for the
    // key end while someone still waits (which would end its load).
    const waits: Wait[] = [];
    let moveOnFrom: CallState | undefined;
    try {
      for (;;) {
        call = current.get(flight);
        if (call === undefined || call === moveOnFrom || call.until < deadlineAt - timeoutMs / 2) {
          call = { id: `${flight}#${nextCall++}`, until: deadlineAt, asking: undefined };
          current.set(flight, call);
        }
        const state = call;
        waits.push({
          state,
          answer: inflight.run(state.id, signal, (s) => {
            metrics.sharedCalls++;
            // A call nobody waits for any more is not the one to join, even before it settles.
            s.addEventListener("abort", () => {
              if (current.get(flight) === state) current.delete(flight);
            });
            return fetchValue(group, key, s, state, log).finally(() => {
              if (current.get(flight) === state) current.delete(flight);
            });
          }),
        });
        let handover: ReturnType<typeof setTimeout> | undefined;
        try {
          // Most requests do not outlive their call: a plain wait, every failure final.
          if (waits.length === 1 && deadlineAt - state.until < MIN_CALL_MS) {
            return await waits[0]!.answer;
          }
          // This request outlives the call: halfway through the call's time it also joins the
          // next one, so the two overlap on the node.
          const moveOn = new Promise<"move on">((resolve) => {
            // Re-armed when the call gives a fallback node a new deadline.
            const arm = () => {
              if (deadlineAt - state.until < MIN_CALL_MS) return;
              const inMs = state.until - timeoutMs / 2 - performance.now();
              if (inMs <= 0) resolve("move on");
              else handover = setTimeout(arm, inMs);
            };
            arm();
          });
          const got = await Promise.race([firstAnswer(waits, deadlineAt, signal), moveOn]);
          if (got === "move on") moveOnFrom = state;
          else if (got === "ask again") waits.length = 0;
          else return got;
        } catch (err) {
          if (signal.aborted) throw GeeCacheError.from(signal.reason);
          throw err;
        } finally {
          clearTimeout(handover);
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }

  // Ask the owner; when it is unavailable (refused, down), ask the next node on the ring, which
  // answers from its own cache or loads the key itself (core's fallback). Not-found, bad input and
  // a node out of time are final for the call. The call ends when nobody waits for it (signal).
  async function fetchValue(
    group: string,
    key: string,
    signal: AbortSignal,
    state: CallState,
    log: { warn(obj: object, msg?: string): void },
  ): Promise<PeerGetResponse> {
    const candidates = ring.pickPeers(key, attempts);
    if (candidates.length === 0) throw new GeeCacheError("UNAVAILABLE", NO_NODES);
    const owner = ring.ownerOf(key);
    let last: GeeCacheError | undefined;
    for (const peer of candidates) {
      try {
        // The owner by this gateway's ring may be stale (a member just joined): it gets the key
        // as a client's request, so its own ring routes it on to the real owner. Any other node
        // is asked because the owner failed, and must answer itself.
        // A whole --timeout for every node asked: the call lasts only while requests wait for
        // it, and those that joined it late still have that long.
        state.until = performance.now() + timeoutMs;
        state.asking = peer.id;
        const got = await peer.get(
          { group, key },
          { signal, forwarded: peer.id !== owner, timeoutMs },
        );
        metrics.called("OK");
        return got;
      } catch (err) {
        const e = GeeCacheError.from(err);
        metrics.called(e.code);
        // Nobody waits any more: each waiter has its own answer (its deadline, or gone).
        if (signal.aborted) throw e;
        if (e.code === "DEADLINE_EXCEEDED") {
          // The node was asked for the time the waiters had; one that joined later and still
          // has time makes another call. The address is for the log, not the public answer.
          throw new GeeCacheError("DEADLINE_EXCEEDED", `no answer within ${timeoutMs} ms`, {
            cause: new Error(`last asked ${peer.id}: ${e.message}`, { cause: err }),
          });
        }
        // The client's answer names its key and group, not the node that knew (or the node's
        // own wording); the cause keeps that for the logs.
        if (e.code === "NOT_FOUND") {
          throw new GeeCacheError(
            "NOT_FOUND",
            `key ${JSON.stringify(key)} not found in group ${JSON.stringify(group)}`,
            { cause: e },
          );
        }
        if (e.code === "INVALID_ARGUMENT") {
          // The node's message names the node; the client learns only that the key is bad.
          throw new GeeCacheError(
            "INVALID_ARGUMENT",
            `key ${JSON.stringify(key)} cannot be loaded in group ${JSON.stringify(group)}`,
            { cause: e },
          );
        }
        if (e.code === "UNKNOWN_GROUP") {
          throw new GeeCacheError("UNKNOWN_GROUP", `no group ${JSON.stringify(group)}`, {
            cause: e,
          });
        }
        if (e.code !== "UNAVAILABLE") throw e;
        log.warn(
          { node: peer.id, key, group, err: e.message },
          "node unavailable, trying the next",
        );
        last = e;
        state.lastError = e.message;
      }
    }
    const tried = candidates.map((p) => p.id).join(", ");
    throw new GeeCacheError(
      "UNAVAILABLE",
      `no cache node could answer (tried ${candidates.length})`,
      {
        cause: new Error(`tried ${tried}; the last: ${last?.message ?? "?"}`, { cause: last }),
      },
    );
  }

  return app;
}

/** One call a request waits for, and its answer to that request. */
interface Wait {
  state: CallState;
  answer: Promise<PeerGetResponse>;
}

/**
 * firstAnswer settles with the first value among a request's calls, or the first final error.
 * A node's "out of time", when it came as the call's time ran out and the request has more,
 * is not final: when every call ended so, it settles "ask again".
 */
function firstAnswer(
  waits: readonly Wait[],
  deadlineAt: number,
  signal: AbortSignal,
): Promise<PeerGetResponse | "ask again"> {
  return new Promise((resolve, reject) => {
    let left = waits.length;
    for (const { state, answer } of waits) {
      answer.then(resolve, (err: unknown) => {
        const e = GeeCacheError.from(err);
        const outlived =
          !signal.aborted &&
          e.code === "DEADLINE_EXCEEDED" &&
          deadlineAt - state.until >= MIN_CALL_MS &&
          performance.now() >= state.until - MIN_CALL_MS;
        if (!outlived) reject(e);
        else if (--left === 0) resolve("ask again");
      });
    }
  });
}

/** MIN_CALL_MS is the least time left for which a request makes another call to the cluster. */
const MIN_CALL_MS = 10;

/** CallState is one call to the cluster for a key, as the requests waiting for it see it. */
interface CallState {
  /** The call's key in the shared loads: the request's key and a call number. */
  readonly id: string;
  /** When the node being asked runs out of the time it was given (performance.now() time). */
  until: number;
  /** The node being asked, and the last failure, for the log when a request runs out of time. */
  asking: string | undefined;
  lastError?: string;
}

/**
 * NO_NODES is the reason of the 503s while the ring is empty. A static --peers list is never
 * empty, so the nodes come from etcd: none has registered, or etcd cannot be read (yet).
 */
const NO_NODES =
  "no cache nodes known: none is registered in etcd yet, or the gateway cannot reach etcd (see its log)";

/** Longest group name accepted, in UTF-8 bytes (names are short identifiers like "scores"). */
const MAX_GROUP_BYTES = 256;

/** Whether every %-escape of a URL query decodes (valid hex, valid UTF-8). */
function isWellEncoded(query: string): boolean {
  if (!query.includes("%")) return true;
  try {
    decodeURIComponent(query);
    return true;
  } catch {
    return false;
  }
}

/**
 * answerClientError answers a request Node's parser refused (malformed, headers over the limit,
 * too slow to send its headers) in the gateway's error shape, then closes the connection.
 */
function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  // A reset connection has nobody left to answer.
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const [status, code, message] =
    err.code === "HPE_HEADER_OVERFLOW"
      ? [431, "INVALID_ARGUMENT", "the request line and headers are over the size limit"]
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "DEADLINE_EXCEEDED", "the request did not arrive in time"]
        : [400, "INVALID_ARGUMENT", "the request is not valid HTTP/1.1"];
  const body = JSON.stringify({ error: { code, message } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
