import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { PROMETHEUS_CONTENT_TYPE } from "@geecache/cli";
import {
  createRegistry,
  type Getter,
  type GetterFunc,
  type GroupOptions,
  type GroupStats,
  type Logger,
  type Member,
  type Registry,
  type RingPeerPicker,
} from "@geecache/core";
import { cacheFactory, type PolicyName } from "@geecache/policies";
import { nodeMetrics } from "./metrics.ts";

/**
 * NodeAppOptions configure buildNodeApp. The group options picked from core apply to every group;
 * give loadTimeoutMs longer than the source's own deadline, or a slow source is cut off here
 * first.
 */
export interface NodeAppOptions
  extends Pick<
    GroupOptions,
    | "hotCacheFraction"
    | "hotCacheSampleRate"
    | "ttlMs"
    | "negativeTtlMs"
    | "loadTimeoutMs"
    | "peerTimeoutMs"
  > {
  /** This node's advertised address, its identity on the ring. */
  self: string;
  /** Names of the groups to serve; each gets the same getter and budget. */
  groups: readonly string[];
  /** Cache budget of each group, in bytes. */
  cacheBytes: number;
  /** Loads a missing key from the source of truth. */
  getter: Getter | GetterFunc;
  /** The ring of peers (transport-connect's createConnectPeerPicker with `self`). */
  picker: RingPeerPicker;
  /** Every group's eviction policy; "lru" by default. */
  policy?: PolicyName;
  logger?: Logger;
  /** Extra figures of the data source for /stats (e.g. the demo source's lookups per key). */
  sourceStats?: () => unknown;
}

/** NodeStats is the body of the node's GET /stats. */
export interface NodeStats {
  id: string;
  peers: string[];
  /** Peers taken out of use for failing; their keys load here until a probe succeeds. */
  downPeers: string[];
  policy: PolicyName;
  uptimeMs: number;
  groups: Record<string, GroupStats>;
  source?: unknown;
}

/** HttpHook answers the node's plain HTTP routes; it returns false for requests it does not handle. */
export type HttpHook = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => boolean;

/** NodeApp is a cache node's state, before any socket: its groups, its ring and its HTTP routes. */
export interface NodeApp {
  readonly self: string;
  readonly registry: Registry;
  readonly picker: RingPeerPicker;
  /** Replaces the member list (self included or not); the Membership's onChange. */
  setPeers(members: readonly (string | Member)[]): void;
  /** `GET /healthz`, `GET /stats` and `GET /metrics`, for the server's `http` option. */
  http: HttpHook;
  stats(): NodeStats;
  /** Marks the node as going away: /healthz answers 503 so balancers stop sending work. */
  drain(): void;
  /** Releases the peer connections. */
  close(): Promise<void>;
}

/** buildNodeApp creates a node's registry and groups over the getter, routed by the picker. */
export function buildNodeApp(options: NodeAppOptions): NodeApp {
  const { self, picker } = options;
  const started = Date.now();
  const policy = options.policy ?? "lru";
  const registry = createRegistry({
    peers: picker,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  for (const name of options.groups) {
    registry.newGroup({
      name,
      getter: options.getter,
      maxBytes: options.cacheBytes,
      cacheFactory: cacheFactory(policy),
      // Core takes an undefined option as its default.
      hotCacheFraction: options.hotCacheFraction,
      hotCacheSampleRate: options.hotCacheSampleRate,
      ttlMs: options.ttlMs,
      negativeTtlMs: options.negativeTtlMs,
      loadTimeoutMs: options.loadTimeoutMs,
      peerTimeoutMs: options.peerTimeoutMs,
    });
  }
  let draining = false;

  const stats = (): NodeStats => {
    const s: NodeStats = {
      id: self,
      peers: picker.peers(),
      downPeers: picker.downPeers(),
      policy,
      uptimeMs: Date.now() - started,
      groups: registry.stats(),
    };
    if (options.sourceStats !== undefined) s.source = options.sourceStats();
    return s;
  };

  const http: HttpHook = (req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (path !== "/healthz" && path !== "/stats" && path !== "/metrics") return false;
    const reply = res as {
      writeHead(status: number, headers: Record<string, string>): unknown;
      end(body: string): unknown;
    };
    const send = (status: number, body: unknown) => {
      reply.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
      reply.end(`${JSON.stringify(body)}\n`);
    };
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(405, { error: { code: "METHOD_NOT_ALLOWED", message: `${path} answers GET only` } });
    } else if (path === "/healthz") {
      send(draining ? 503 : 200, { status: draining ? "draining" : "ok", id: self });
    } else if (path === "/metrics") {
      reply.writeHead(200, {
        "content-type": PROMETHEUS_CONTENT_TYPE,
        "cache-control": "no-store",
      });
      reply.end(nodeMetrics(stats()));
    } else send(200, stats());
    return true;
  };

  return {
    self,
    registry,
    picker,
    setPeers: (members) => picker.setPeers(members),
    http,
    stats,
    drain() {
      draining = true;
    },
    close: () => picker.close(),
  };
}
