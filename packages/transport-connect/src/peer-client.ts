import type { JsonObject } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  GeeCacheError,
  type PeerGetRequest,
  type PeerGetResponse,
  type PeerGetter,
} from "@geecache/core";
import { CacheService } from "@geecache/proto";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "@geecache/proto/health";
import { CallSlots } from "./call-slots.ts";
import { fromConnectError } from "./error-codes.ts";
import { grpcUnary, MAX_GRPC_TIMEOUT_MS } from "./grpc-unary.ts";
import { checkRange, TIMER_MS } from "./options.ts";
import { GuardedSessionManager } from "./session-manager.ts";

/** The streams Node's HTTP/2 client assumes a server allows until its SETTINGS arrive. */
const NODE_ASSUMED_STREAMS = 100;
/** Streams of each connection left to health checks and stats. */
const RESERVED_STREAMS = 4;

const getMethod = CacheService.method.get;
const getPath = `/${CacheService.typeName}/${getMethod.name}`;

/**
 * PeerClientOptions configure createPeerClient. Each duration is in milliseconds, > 0 and
 * <= 2^31-1 (the longest timer Node keeps); createPeerClient throws a RangeError otherwise.
 */
export interface PeerClientOptions {
  /** Deadline of each call in milliseconds, unless the call sets its own; 2,000 by default. */
  timeoutMs?: number;
  /** Close the pooled connection after this long without calls; 5 minutes by default. */
  idleConnectionTimeoutMs?: number;
  /**
   * Send HTTP/2 PINGs this often while calls are open, and before reusing a connection idle
   * for longer, so a dead peer is noticed; off by default (the deadline bounds every call).
   */
  pingIntervalMs?: number;
}

/** PeerCallOptions are per-call options of a PeerClient. */
export interface PeerCallOptions {
  /** Cancels the call; it then rejects with CANCELED. */
  signal?: AbortSignal;
  /**
   * This call's deadline in milliseconds, overriding the client's timeoutMs. Out of the
   * client's range (> 0, <= 2^31-1), the call rejects with INVALID_ARGUMENT.
   */
  timeoutMs?: number;
  /**
   * Whether the call is a peer forwarding a key to its owner (the owner must not forward it
   * again). true by default, as core's PeerGetter calls are; gateways pass false so that a node
   * whose ring disagrees can still route the key to its owner.
   */
  forwarded?: boolean;
  /**
   * Ask the node to answer from its caches only (NOT_FOUND when it holds no value; it neither
   * loads nor forwards), as core asks a key's previous owner after a membership change.
   */
  cacheOnly?: boolean;
}

/** NodeStats is what a node's Stats RPC reports. */
export interface NodeStats {
  /** The node's id, by convention its advertised address. */
  nodeId: string;
  /** Per group name, that group's stats as plain JSON (the shape of core's group stats). */
  groups: Record<string, JsonObject>;
}

/**
 * PeerClient is a PeerGetter for one node over gRPC, plus that node's stats. It holds one
 * HTTP/2 connection, opened on first use and reused by every call.
 */
export interface PeerClient extends PeerGetter {
  /** The address given to createPeerClient: the peer's identity on the hash ring. */
  readonly id: string;
  /**
   * get fetches one value. It rejects with a GeeCacheError: NOT_FOUND, UNKNOWN_GROUP,
   * INVALID_ARGUMENT or LOAD_FAILED as the peer reports them; UNAVAILABLE when the peer cannot
   * be reached or refuses the call; DEADLINE_EXCEEDED at the deadline; CANCELED on abort.
   */
  get(request: PeerGetRequest, options?: PeerCallOptions): Promise<PeerGetResponse>;
  /** stats fetches the node's id and per-group stats. Errors as for get. */
  stats(options?: Omit<PeerCallOptions, "forwarded">): Promise<NodeStats>;
  /**
   * probe asks the node's grpc.health.v1 service whether it serves: it resolves on SERVING and
   * rejects with UNAVAILABLE otherwise (down, or draining before shutdown).
   */
  probe(options?: Omit<PeerCallOptions, "forwarded">): Promise<void>;
  /**
   * close stops the client: later calls fail UNAVAILABLE at once. Calls already in flight go on
   * and finish, or fail on their own deadline or signal; once they have all settled the pooled
   * connection is closed, and the promise resolves. graceMs (>= 0, <= 2^31-1, else a RangeError
   * rejection) bounds that wait: calls still open then fail UNAVAILABLE and the connection
   * closes; 0 closes it at once. Calling close again returns the same promise, and a graceMs
   * can only bring the end forward.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/**
 * checkPeerClientOptions throws the TypeError or RangeError createPeerClient would throw for
 * these options, so that a picker fails when it is created rather than at its first setPeers.
 */
export function checkPeerClientOptions(options: PeerClientOptions): void {
  for (const name of ["timeoutMs", "idleConnectionTimeoutMs", "pingIntervalMs"] as const) {
    if (options[name] !== undefined) checkRange(name, options[name]);
  }
}

/**
 * createPeerClient creates the gRPC client of the node at address ("host:port", or an
 * "http://host:port" URL). No connection is made until the first call. It throws a RangeError
 * (TypeError for a non-number) for a duration option out of range, and a TypeError for an
 * address that is not one.
 */
export function createPeerClient(address: string, options: PeerClientOptions = {}): PeerClient {
  const baseUrl = /^https?:\/\//.test(address) ? address : `http://${address}`;
  // Http2SessionManager would throw a bare "Invalid URL" without the address.
  if (typeof address !== "string" || !URL.canParse(baseUrl)) {
    throw new TypeError(`peer address must be "host:port", got ${JSON.stringify(address)}`);
  }
  checkPeerClientOptions(options);
  const timeoutMs = wireTimeout(options.timeoutMs ?? 2_000);
  const sessionManager = new GuardedSessionManager(baseUrl, {
    idleConnectionTimeoutMs: options.idleConnectionTimeoutMs ?? 5 * 60_000,
    ...(options.pingIntervalMs === undefined ? {} : { pingIntervalMs: options.pingIntervalMs }),
  });
  // Gets take the server's streams but a few, kept for health checks and stats: a check must
  // not wait behind slow gets, or a busy peer would look hung. Until the first connection says
  // otherwise, the limit Node itself assumes.
  const slots = new CallSlots(NODE_ASSUMED_STREAMS - RESERVED_STREAMS);
  sessionManager.onStreamLimit = (limit) => slots.setLimit(Math.max(1, limit - RESERVED_STREAMS));
  const transport = createGrpcTransport({ baseUrl, sessionManager, defaultTimeoutMs: timeoutMs });
  const client = createClient(CacheService, transport);
  const health = createClient(Health, transport);
  let closed = false;
  // Calls begun and not yet settled: close waits for them before it ends the connection.
  let inFlight = 0;
  // Set by the first close: resolves it once the connection is ended.
  let closing: Promise<void> | undefined;
  let ended: (() => void) | undefined;
  let grace: ReturnType<typeof setTimeout> | undefined;
  let graceEndsAt = Number.POSITIVE_INFINITY;

  const checkOpen = () => {
    if (closed) throw new GeeCacheError("UNAVAILABLE", `peer ${address}: client closed`);
  };

  // The session manager has no graceful close of its own: abort() destroys the connection
  // and every stream on it. So it is only called once nothing is in flight (or the grace is
  // over); its idle and ping timers stop with it.
  const end = () => {
    if (ended === undefined) return;
    clearTimeout(grace);
    // Calls still waiting for a stream fail now; granted later, they would open a connection.
    slots.close();
    sessionManager.abort();
    ended();
    ended = undefined;
  };
  const settled = () => {
    inFlight--;
    if (closed && inFlight === 0) end();
  };

  // A bad per-call deadline is the caller's mistake, not the peer's: it is reported as such
  // before any call is made, instead of becoming a 1 ms timer.
  const callTimeout = (callMs: number | undefined): number => {
    if (callMs === undefined) return timeoutMs;
    try {
      return wireTimeout(checkRange("timeoutMs", callMs));
    } catch (reason) {
      const message = reason instanceof Error ? reason.message : String(reason);
      throw new GeeCacheError("INVALID_ARGUMENT", `peer ${address}: ${message}`);
    }
  };

  // A stream the peer reset (it shut down, or crashed mid-call) surfaces as Canceled; only the
  // caller's own abort is a cancellation, anything else means the peer is unavailable.
  const callError = (reason: unknown, signal: AbortSignal | undefined): GeeCacheError => {
    const err = fromConnectError(reason, address);
    if (err.code !== "CANCELED" || signal?.aborted) return err;
    return new GeeCacheError("UNAVAILABLE", err.message, { cause: err.cause });
  };

  return {
    id: address,
    async get(request, callOptions = {}) {
      checkOpen();
      const callMs = callTimeout(callOptions.timeoutMs);
      inFlight++;
      try {
        const response = await grpcUnary(
          sessionManager,
          slots,
          getPath,
          getMethod.input,
          getMethod.output,
          {
            group: request.group,
            key: request.key,
            forwarded: callOptions.forwarded ?? true,
            cacheOnly: callOptions.cacheOnly === true,
          },
          callMs,
          callOptions.signal,
        );
        const result: PeerGetResponse = { value: response.value };
        if (response.expiresAtMs !== undefined) result.expiresAtMs = Number(response.expiresAtMs);
        return result;
      } catch (reason) {
        throw callError(reason, callOptions.signal);
      } finally {
        settled();
      }
    },
    async stats(callOptions = {}) {
      checkOpen();
      const callMs = callTimeout(callOptions.timeoutMs);
      inFlight++;
      try {
        const response = await client.stats({}, { signal: callOptions.signal, timeoutMs: callMs });
        return { nodeId: response.nodeId, groups: response.groups };
      } catch (reason) {
        throw callError(reason, callOptions.signal);
      } finally {
        settled();
      }
    },
    async probe(callOptions = {}) {
      checkOpen();
      const callMs = callTimeout(callOptions.timeoutMs);
      let status: ServingStatus;
      inFlight++;
      try {
        const response = await health.check(
          { service: CacheService.typeName },
          { signal: callOptions.signal, timeoutMs: callMs },
        );
        status = response.status;
      } catch (reason) {
        throw callError(reason, callOptions.signal);
      } finally {
        settled();
      }
      if (status !== ServingStatus.SERVING) {
        throw new GeeCacheError("UNAVAILABLE", `peer ${address}: ${ServingStatus[status]}`);
      }
    },
    close({ graceMs }: { graceMs?: number } = {}) {
      if (graceMs !== undefined) {
        try {
          checkRange("graceMs", graceMs, GRACE_MS);
        } catch (reason) {
          return Promise.reject(reason);
        }
      }
      closed = true;
      closing ??= new Promise<void>((resolve) => {
        ended = resolve;
      });
      if (inFlight === 0 || graceMs === 0) end();
      else if (graceMs !== undefined && performance.now() + graceMs < graceEndsAt) {
        graceEndsAt = performance.now() + graceMs;
        // A later close with a shorter grace replaces this timer; end() clears the last one.
        clearTimeout(grace);
        // Unref'd: the calls in flight keep the process up (their deadlines are ref'd timers);
        // the grace alone must not.
        grace = setTimeout(end, graceMs);
        grace.unref();
      }
      return closing;
    },
  };
}

// Zero closes at once, failing what is in flight.
const GRACE_MS = { ...TIMER_MS, minClosed: true };

// Deadlines past what a peer can be sent (about 28 hours) are cut to it, so that the peer
// gives up when the caller does rather than rejecting the call.
function wireTimeout(timeoutMs: number): number {
  return Math.min(timeoutMs, MAX_GRPC_TIMEOUT_MS);
}
