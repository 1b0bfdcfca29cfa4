import {
  type EtcdConfig,
  etcdOptionSpecs,
  type LogLevel,
  MAX_TIMER_MS,
  type OptionSpec,
  parseAddress,
  parseAddressList,
  parseBytesFlag,
  parseDurationFlag,
  parseEtcdConfig,
  parseLogLevel,
  parsePort,
  readOptions,
  usage,
} from "@geecache/cli";
import { DEFAULT_HANDOFF_WINDOW_MS, DEFAULT_LOAD_TIMEOUT_MS } from "@geecache/core";
import { isPolicyName, type PolicyName, policyNames } from "@geecache/policies";
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CONCURRENT_STREAMS,
  DEFAULT_MAX_TIMEOUT_MS,
} from "@geecache/transport-connect";
import { checkOriginUrlTemplate } from "./http-source.ts";

/**
 * LOAD_TIMEOUT_MARGIN_MS is how much longer than the source's own deadline (--origin-timeout, or
 * --demo-delay) a group lets one load run at least, so a slow origin fails with its own timeout
 * error rather than being cut off by core's 10 s default.
 */
export const LOAD_TIMEOUT_MARGIN_MS = 1_000;

/** nodeOptionSpecs are the node's flags, their environment variables and defaults. */
export const nodeOptionSpecs = {
  port: {
    env: "GEECACHE_PORT",
    default: "8001",
    arg: "<port>",
    help: "port of gRPC, Connect and /stats",
  },
  host: {
    env: "GEECACHE_HOST",
    default: "127.0.0.1",
    arg: "<host>",
    help: "interface to listen on",
  },
  advertise: {
    env: "GEECACHE_ADVERTISE",
    arg: "<host:port>",
    help: "this node's address on the ring, as peers reach it (default host:port)",
  },
  peers: {
    env: "GEECACHE_PEERS",
    arg: "<a,b,...>",
    help: "static peer list, advertised addresses, self included or not",
  },
  ...etcdOptionSpecs,
  id: {
    env: "GEECACHE_ID",
    arg: "<id>",
    help: "with --etcd: this node's unique id (default: the advertised address)",
  },
  weight: {
    env: "GEECACHE_WEIGHT",
    default: "1",
    arg: "<n>",
    help: "with --etcd: relative capacity in (0, 100]; a weight-2 node owns twice the keys",
  },
  "lease-ttl": {
    env: "GEECACHE_LEASE_TTL",
    default: "10s",
    arg: "<duration>",
    help: "with --etcd: lease TTL, how long a crashed node stays a member (whole seconds, at least 2s)",
  },
  groups: { env: "GEECACHE_GROUPS", default: "scores", arg: "<a,b,...>", help: "groups to serve" },
  "cache-bytes": {
    env: "GEECACHE_CACHE_BYTES",
    default: "64MiB",
    arg: "<size>",
    help: "cache budget of each group (e.g. 64MiB)",
  },
  policy: {
    env: "GEECACHE_POLICY",
    default: "lru",
    arg: "<name>",
    help: `eviction policy: ${policyNames.join(", ")}`,
  },
  "hot-cache-fraction": {
    env: "GEECACHE_HOT_CACHE_FRACTION",
    arg: "<fraction>",
    help: "share of the budget for values mirrored from peers, in [0, 1), 0 for none (core's default, 1/8)",
  },
  "hot-cache-sample-rate": {
    env: "GEECACHE_HOT_CACHE_SAMPLE_RATE",
    arg: "<fraction>",
    help: "share of the values fetched from peers that are mirrored, in [0, 1] (core's default, 0.1)",
  },
  ttl: {
    env: "GEECACHE_TTL",
    arg: "<duration>",
    help: "how long a value stays cached when the source gives no expiry (default: until evicted)",
  },
  "negative-ttl": {
    env: "GEECACHE_NEGATIVE_TTL",
    default: "1s",
    arg: "<duration>",
    help: "how long a key the source does not have is remembered; 0 disables",
  },
  source: { env: "GEECACHE_SOURCE", default: "demo", arg: "demo|http", help: "data source" },
  "demo-delay": {
    env: "GEECACHE_DEMO_DELAY",
    default: "300ms",
    arg: "<duration>",
    help: "latency of the demo source's lookups",
  },
  "origin-url": {
    env: "GEECACHE_ORIGIN_URL",
    arg: "<template>",
    help: "http source: URL with {group} and {key}, e.g. http://origin/{group}/{key}",
  },
  "origin-timeout": {
    env: "GEECACHE_ORIGIN_TIMEOUT",
    default: "2s",
    arg: "<duration>",
    help: "http source: deadline of one fetch (over 9s, a load may take 1s more)",
  },
  "origin-max-bytes": {
    env: "GEECACHE_ORIGIN_MAX_BYTES",
    default: "1MiB",
    arg: "<size>",
    help: "http source: largest value accepted",
  },
  "peer-timeout": {
    env: "GEECACHE_PEER_TIMEOUT",
    default: "2s",
    arg: "<duration>",
    help: "deadline of a call to a peer, at most 60s",
  },
  "handoff-window": {
    env: "GEECACHE_HANDOFF_WINDOW",
    default: `${DEFAULT_HANDOFF_WINDOW_MS / 60_000}m`,
    arg: "<duration>",
    help: "after a membership change, how long a key's previous owner is asked for it first; 0 disables",
  },
  "max-streams": {
    env: "GEECACHE_MAX_STREAMS",
    default: String(DEFAULT_MAX_CONCURRENT_STREAMS),
    arg: "<n>",
    help: "calls one HTTP/2 connection may have open at once; a peer past it waits",
  },
  "idle-timeout": {
    env: "GEECACHE_IDLE_TIMEOUT",
    default: `${DEFAULT_IDLE_TIMEOUT_MS / 60_000}m`,
    arg: "<duration>",
    help: "an HTTP/2 connection without a frame this long is closed (keep it above peers' 5m)",
  },
  "shutdown-grace": {
    env: "GEECACHE_SHUTDOWN_GRACE",
    default: "10s",
    arg: "<duration>",
    help: "on SIGTERM, how long in-flight calls may take",
  },
  "log-level": {
    env: "LOG_LEVEL",
    default: "info",
    arg: "<level>",
    help: "fatal, error, warn, info, debug, trace or silent",
  },
} satisfies Record<string, OptionSpec>;

/** NodeConfig is the node's validated configuration. */
export interface NodeConfig {
  host: string;
  port: number;
  /** This node's identity on the ring. */
  advertise: string;
  /** Every member's advertised address, self included, sorted (static membership). */
  peers: string[];
  /** Set with --etcd: register there and take the members from it instead of `peers`. */
  discovery?: { etcd: EtcdConfig; id: string; weight: number; leaseTtlSec: number };
  groups: string[];
  cacheBytes: number;
  policy: PolicyName;
  hotCacheFraction?: number;
  hotCacheSampleRate?: number;
  /** Expiry of values the source gives none; none: until evicted. */
  ttlMs?: number;
  /** How long a "not found" is remembered; 0 disables. */
  negativeTtlMs: number;
  source:
    | { kind: "demo"; delayMs: number }
    | { kind: "http"; urlTemplate: string; timeoutMs: number; maxBytes: number };
  /**
   * Deadline of one load from the source: core's default (10 s), or the source's own deadline
   * (origin timeout or demo delay) plus LOAD_TIMEOUT_MARGIN_MS when that is longer.
   */
  loadTimeoutMs: number;
  peerTimeoutMs: number;
  /** How long after a membership change a key's previous owner's cache is asked before loading. */
  handoffWindowMs: number;
  /** The server's HTTP/2 limits (transport-connect's maxConcurrentStreams and idleTimeoutMs). */
  maxConcurrentStreams: number;
  idleTimeoutMs: number;
  shutdownGraceMs: number;
  logLevel: LogLevel;
}

/** nodeUsage is the node's --help text. */
export const nodeUsage = usage("geecache-node", nodeOptionSpecs);

/**
 * parseNodeConfig reads the node's flags and environment. Returns undefined for --help. Throws
 * TypeError or RangeError with a message meant for the operator.
 */
export function parseNodeConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): NodeConfig | undefined {
  const { help, values: v, given } = readOptions(nodeOptionSpecs, argv, env);
  if (help) return undefined;
  const host = v.host!;
  const port = parsePort(v.port!);
  if (port === 0) throw new RangeError("--port must be a fixed port: peers need to know it");
  let advertise: string;
  if (v.advertise !== undefined) advertise = parseAddress(v.advertise);
  else if (host === "0.0.0.0" || host === "::" || host === "") {
    throw new TypeError(
      `--advertise is required when --host is a wildcard (${JSON.stringify(host)})`,
    );
  } else advertise = parseAddress(`${host.includes(":") ? `[${host}]` : host}:${port}`);
  // Self is always a member: a list given without it still describes the same ring everywhere.
  const peers = [...new Set([advertise, ...parseAddressList(v.peers)])].sort();

  const etcd = parseEtcdConfig(v, env);
  let discovery: NodeConfig["discovery"];
  if (etcd !== undefined) {
    if (v.peers !== undefined) throw new TypeError("use either --peers or --etcd, not both");
    const id = v.id ?? advertise;
    if (id === "" || id.includes("/"))
      throw new TypeError(`invalid --id ${JSON.stringify(id)}: no "/"`);
    const weight = Number(v.weight);
    if (!(Number.isFinite(weight) && weight > 0 && weight <= 100)) {
      throw new RangeError(
        `--weight must be a number in (0, 100], got ${JSON.stringify(v.weight)}`,
      );
    }
    const leaseTtlMs = parseDurationFlag("--lease-ttl", v["lease-ttl"]!);
    if (!(leaseTtlMs >= 2_000 && leaseTtlMs % 1_000 === 0)) {
      throw new RangeError(
        "--lease-ttl must be whole seconds, at least 2s (etcd leases are in seconds)",
      );
    }
    discovery = { etcd, id, weight, leaseTtlSec: leaseTtlMs / 1_000 };
  } else {
    // Without etcd they would be silently ignored: say so rather than run a different node.
    const etcdOnly = (["id", "weight", "lease-ttl"] as const).filter((f) => given.has(f));
    if (etcdOnly.length > 0) {
      const flags = etcdOnly.map((f) => `--${f}`).join(", ");
      throw new TypeError(
        `${flags} ${etcdOnly.length === 1 ? "applies" : "apply"} only with --etcd`,
      );
    }
  }

  const groups = [...new Set(v.groups!.split(",").map((g) => g.trim()))].filter((g) => g !== "");
  if (groups.length === 0) throw new TypeError("--groups must name at least one group");

  const cacheBytes = parseBytesFlag("--cache-bytes", v["cache-bytes"]!, { min: 1 });

  let hotCacheFraction: number | undefined;
  if (v["hot-cache-fraction"] !== undefined) {
    hotCacheFraction = Number(v["hot-cache-fraction"]);
    if (!(hotCacheFraction >= 0 && hotCacheFraction < 1)) {
      throw new RangeError("--hot-cache-fraction must be in [0, 1)");
    }
  }
  let hotCacheSampleRate: number | undefined;
  if (v["hot-cache-sample-rate"] !== undefined) {
    hotCacheSampleRate = Number(v["hot-cache-sample-rate"]);
    if (!(hotCacheSampleRate >= 0 && hotCacheSampleRate <= 1)) {
      throw new RangeError("--hot-cache-sample-rate must be in [0, 1]");
    }
  }
  // No timer is armed per entry, so a TTL may outlast Node's longest timer.
  const ttlMs =
    v.ttl === undefined
      ? undefined
      : parseDurationFlag("--ttl", v.ttl, { min: 1, max: Number.MAX_SAFE_INTEGER });
  const negativeTtlMs = parseDurationFlag("--negative-ttl", v["negative-ttl"]!, {
    max: Number.MAX_SAFE_INTEGER,
  });
  const maxConcurrentStreams = Number(v["max-streams"]);
  if (
    !(
      Number.isInteger(maxConcurrentStreams) &&
      maxConcurrentStreams >= 1 &&
      maxConcurrentStreams <= 2 ** 31 - 1
    )
  ) {
    throw new RangeError(
      `--max-streams must be a whole number from 1 to 2147483647, got ${JSON.stringify(v["max-streams"])}`,
    );
  }

  let source: NodeConfig["source"];
  let sourceDeadlineMs: number;
  if (v.source === "demo") {
    source = { kind: "demo", delayMs: parseDurationFlag("--demo-delay", v["demo-delay"]!) };
    sourceDeadlineMs = source.delayMs;
  } else if (v.source === "http") {
    const urlTemplate = v["origin-url"];
    if (urlTemplate === undefined) throw new TypeError("--source http needs --origin-url");
    try {
      checkOriginUrlTemplate(urlTemplate);
    } catch (err) {
      throw new TypeError(`--origin-url: ${(err as Error).message}`);
    }
    source = {
      kind: "http",
      urlTemplate,
      timeoutMs: parseDurationFlag("--origin-timeout", v["origin-timeout"]!, { min: 1 }),
      maxBytes: parseBytesFlag("--origin-max-bytes", v["origin-max-bytes"]!, { min: 1 }),
    };
    sourceDeadlineMs = source.timeoutMs;
  } else throw new TypeError(`unknown --source ${JSON.stringify(v.source)}: use demo or http`);
  const loadTimeoutMs = Math.min(
    Math.max(DEFAULT_LOAD_TIMEOUT_MS, sourceDeadlineMs + LOAD_TIMEOUT_MARGIN_MS),
    MAX_TIMER_MS,
  );

  if (!isPolicyName(v.policy)) {
    throw new TypeError(
      `unknown --policy ${JSON.stringify(v.policy)}: use ${policyNames.join(", ")}`,
    );
  }
  const policy = v.policy;

  return {
    host,
    port,
    advertise,
    peers,
    ...(discovery === undefined ? {} : { discovery }),
    groups,
    cacheBytes,
    policy,
    ...(hotCacheFraction === undefined ? {} : { hotCacheFraction }),
    ...(hotCacheSampleRate === undefined ? {} : { hotCacheSampleRate }),
    ...(ttlMs === undefined ? {} : { ttlMs }),
    negativeTtlMs,
    source,
    loadTimeoutMs,
    // A peer's server refuses a longer deadline on every call (transport-connect's maxTimeoutMs).
    peerTimeoutMs: parseDurationFlag("--peer-timeout", v["peer-timeout"]!, {
      min: 1,
      max: DEFAULT_MAX_TIMEOUT_MS,
      maxReason: "the longest deadline a cache node accepts",
    }),
    handoffWindowMs: parseDurationFlag("--handoff-window", v["handoff-window"]!),
    maxConcurrentStreams,
    idleTimeoutMs: parseDurationFlag("--idle-timeout", v["idle-timeout"]!, { min: 1 }),
    shutdownGraceMs: parseDurationFlag("--shutdown-grace", v["shutdown-grace"]!),
    logLevel: parseLogLevel(v["log-level"]!),
  };
}
