import {
  type EtcdConfig,
  etcdOptionSpecs,
  type LogLevel,
  type OptionSpec,
  parseAddressList,
  parseBytesFlag,
  parseDurationFlag,
  parseEtcdConfig,
  parseLogLevel,
  parsePort,
  readOptions,
  usage,
} from "@geecache/cli";
import { DEFAULT_MAX_TIMEOUT_MS } from "@geecache/transport-connect";

const defaultPeers = "127.0.0.1:8001,127.0.0.1:8002,127.0.0.1:8003";

/** gatewayOptionSpecs are the gateway's flags, their environment variables and defaults. */
export const gatewayOptionSpecs = {
  port: { env: "GATEWAY_PORT", default: "9999", arg: "<port>", help: "HTTP port of the API" },
  host: {
    env: "GATEWAY_HOST",
    default: "127.0.0.1",
    arg: "<host>",
    help: "interface to listen on",
  },
  peers: {
    env: "GEECACHE_PEERS",
    arg: "<a,b,...>",
    help: `the cache nodes' advertised addresses (default ${defaultPeers}, or from --etcd)`,
  },
  ...etcdOptionSpecs,
  group: {
    env: "GATEWAY_GROUP",
    default: "scores",
    arg: "<name>",
    help: "group when ?group= is absent",
  },
  timeout: {
    env: "GATEWAY_TIMEOUT",
    default: "2s",
    arg: "<duration>",
    help: "deadline of one API request, retries included, at most 60s",
  },
  "max-key-bytes": {
    env: "GATEWAY_MAX_KEY_BYTES",
    default: "1024",
    arg: "<size>",
    help: "longest key accepted, in UTF-8 bytes",
  },
  "shutdown-grace": {
    env: "GATEWAY_SHUTDOWN_GRACE",
    default: "10s",
    arg: "<duration>",
    help: "on SIGTERM, how long in-flight requests may take",
  },
  "access-log": {
    env: "GATEWAY_ACCESS_LOG",
    default: "on",
    arg: "on|off",
    help: "log every request at info level",
  },
  "log-level": {
    env: "LOG_LEVEL",
    default: "info",
    arg: "<level>",
    help: "fatal, error, warn, info, debug, trace or silent",
  },
} satisfies Record<string, OptionSpec>;

/** GatewayConfig is the gateway's validated configuration. */
export interface GatewayConfig {
  host: string;
  port: number;
  /** The static node list; empty with etcd. */
  peers: string[];
  /** Set with --etcd: watch the cluster's members there (the gateway never registers). */
  etcd?: EtcdConfig;
  defaultGroup: string;
  timeoutMs: number;
  maxKeyBytes: number;
  shutdownGraceMs: number;
  accessLog: boolean;
  logLevel: LogLevel;
}

/** gatewayUsage is the gateway's --help text. */
export const gatewayUsage = usage("geecache-gateway", gatewayOptionSpecs);

/**
 * parseGatewayConfig reads the gateway's flags and environment. Returns undefined for --help.
 * Throws TypeError or RangeError with a message meant for the operator.
 */
export function parseGatewayConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): GatewayConfig | undefined {
  const { help, values: v } = readOptions(gatewayOptionSpecs, argv, env);
  if (help) return undefined;
  const etcd = parseEtcdConfig(v, env);
  if (etcd !== undefined && v.peers !== undefined) {
    throw new TypeError("use either --peers or --etcd, not both");
  }
  const peers = etcd === undefined ? parseAddressList(v.peers ?? defaultPeers).sort() : [];
  if (etcd === undefined && peers.length === 0) {
    throw new TypeError("--peers must name at least one cache node");
  }
  // The rest of the deadline goes with each call to a node, whose server refuses one over 60 s
  // (transport-connect's maxTimeoutMs): a longer --timeout would fail every request.
  const timeoutMs = parseDurationFlag("--timeout", v.timeout!, {
    min: 1,
    max: DEFAULT_MAX_TIMEOUT_MS,
    maxReason: "the longest deadline a cache node accepts",
  });
  const maxKeyBytes = parseBytesFlag("--max-key-bytes", v["max-key-bytes"]!, { min: 1 });
  return {
    host: v.host!,
    port: parsePort(v.port!),
    peers,
    ...(etcd === undefined ? {} : { etcd }),
    defaultGroup: v.group!,
    timeoutMs,
    maxKeyBytes,
    shutdownGraceMs: parseDurationFlag("--shutdown-grace", v["shutdown-grace"]!),
    accessLog: parseOnOff(v["access-log"]!, "--access-log"),
    logLevel: parseLogLevel(v["log-level"]!),
  };
}

function parseOnOff(text: string, flag: string): boolean {
  if (text === "on" || text === "true") return true;
  if (text === "off" || text === "false") return false;
  throw new TypeError(`${flag} must be on or off, got ${JSON.stringify(text)}`);
}
