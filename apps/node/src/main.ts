// The cache node's command line: flags and environment, listen, membership, signals.
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { configOrExit, logCrashes, stopProcess, usageExit } from "@geecache/cli";
import type { GetterFunc } from "@geecache/core";
import { createEtcdDiscovery } from "@geecache/discovery-etcd";
import { createConnectPeerPicker, startCacheServer } from "@geecache/transport-connect";
import { pino } from "pino";
import { buildNodeApp } from "./build-app.ts";
import { nodeUsage, parseNodeConfig } from "./config.ts";
import { createDemoSource } from "./demo-source.ts";
import { createHttpOrigin } from "./http-source.ts";
import { etcdMembership, type Membership, staticMembership } from "./membership.ts";

/**
 * How long a node leaving an etcd membership goes on serving after deleting its record: the
 * watchers' debounce (200 ms) and etcd's delivery, with room to spare.
 */
const LEAVE_DELAY_MS = 1_000;

const usageError = (err: unknown) => usageExit("geecache-node", nodeUsage, err);
const cfg = configOrExit("geecache-node", nodeUsage, () =>
  parseNodeConfig(process.argv.slice(2), process.env),
);

const logger = pino({ level: cfg.logLevel, base: { node: cfg.advertise } });
logCrashes(logger);

let getter: GetterFunc;
let sourceStats: (() => unknown) | undefined;
let picker: ReturnType<typeof createConnectPeerPicker>;
let app: ReturnType<typeof buildNodeApp>;
// The config checks what it can; the libraries have the last word on their options, and what
// they refuse (TypeError, RangeError) is a bad flag too, not a crash.
try {
  if (cfg.source.kind === "demo") {
    const demo = createDemoSource({
      delayMs: cfg.source.delayMs,
      logger: logger.child({ source: "demo" }),
    });
    getter = demo.get;
    sourceStats = () => ({ kind: "demo", loads: demo.loads() });
  } else {
    getter = createHttpOrigin(cfg.source);
    sourceStats = () => ({ kind: "http" });
  }
  picker = createConnectPeerPicker({
    self: cfg.advertise,
    timeoutMs: cfg.peerTimeoutMs,
    handoffWindowMs: cfg.handoffWindowMs,
    logger: logger.child({ component: "ring" }),
  });
  app = buildNodeApp({
    self: cfg.advertise,
    groups: cfg.groups,
    cacheBytes: cfg.cacheBytes,
    getter,
    picker,
    policy: cfg.policy,
    hotCacheFraction: cfg.hotCacheFraction,
    hotCacheSampleRate: cfg.hotCacheSampleRate,
    ttlMs: cfg.ttlMs,
    negativeTtlMs: cfg.negativeTtlMs,
    loadTimeoutMs: cfg.loadTimeoutMs,
    peerTimeoutMs: cfg.peerTimeoutMs,
    logger: logger.child({ component: "core" }),
    sourceStats,
  });
} catch (err) {
  if (err instanceof TypeError || err instanceof RangeError) usageError(err);
  throw err;
}

let stopping = false;
let membership: Membership | undefined;
let server: Awaited<ReturnType<typeof startCacheServer>> | undefined;
// Installed before anything listens, so a signal during startup still shuts down cleanly.
// on, not once: under `pnpm … start` Ctrl-C reaches this process twice (from the terminal and
// forwarded by pnpm), and with a once handler the second would kill it mid-shutdown. A repeat is
// ignored; the shutdown has its own deadline.
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);

// Listen first, join second: peers route keys to us as soon as they see our record. Until the
// first member list arrives, this node owns every key, which is correct for a cluster of one.
try {
  server = await startCacheServer({
    registry: app.registry,
    host: cfg.host,
    port: cfg.port,
    nodeId: cfg.advertise,
    maxConcurrentStreams: cfg.maxConcurrentStreams,
    idleTimeoutMs: cfg.idleTimeoutMs,
    logger: logger.child({ component: "server" }),
    http: app.http,
  });
} catch (err) {
  if (err instanceof TypeError || err instanceof RangeError) usageError(err);
  // EADDRINUSE, EACCES, EADDRNOTAVAIL: one line that says what could not be done, no stack.
  const { code, message } = err as NodeJS.ErrnoException;
  logger.fatal({ code }, `cannot listen on ${cfg.host}:${cfg.port}: ${message}`);
  await app.close();
  process.exit(1);
}
const d = cfg.discovery;
const { version } = JSON.parse(
  readFileSync(new URL("../package.json", import.meta.url), "utf8"),
) as {
  version: string;
};
membership =
  d === undefined
    ? staticMembership(cfg.peers)
    : etcdMembership({
        discovery: createEtcdDiscovery({
          ...d.etcd,
          logger: logger.child({ component: "etcd" }),
        }),
        record: { id: d.id, address: cfg.advertise, weight: d.weight, version },
        leaseTtlSec: d.leaseTtlSec,
      });
try {
  await membership.start((members) => {
    app.setPeers(members);
    logger.info({ peers: app.picker.peers() }, "membership changed");
  });
} catch (err) {
  logger.fatal({ err }, "cannot join the cluster");
  await server.close({ graceMs: 0 });
  process.exit(1);
}
logger.info(
  {
    address: `${server.address.host}:${server.address.port}`,
    advertise: cfg.advertise,
    membership:
      d === undefined ? "static" : `etcd ${d.etcd.endpoints.join(",")} cluster ${d.etcd.cluster}`,
    groups: cfg.groups,
    policy: cfg.policy,
    source: cfg.source.kind,
  },
  "geecache node listening",
);

async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal, graceMs: cfg.shutdownGraceMs }, "shutting down");
  app.drain();
  // Leave first so peers stop sending us keys, then let in-flight calls finish.
  const leaveMs = cfg.discovery === undefined ? 0 : LEAVE_DELAY_MS;
  await stopProcess(logger, leaveMs + cfg.shutdownGraceMs + 2_000, async () => {
    await membership?.close();
    if (leaveMs > 0) {
      // Rings drop us when their etcd watch reports the deleted record (debounced, 200 ms by
      // default). Until then peers and gateways still route keys here, some on new
      // connections: keep serving them rather than refuse, which would cost each a retry, and
      // a 503 where the next node on the ring is leaving too.
      logger.info({ leaveMs }, "leaving the membership; serving while peers catch up");
      await sleep(leaveMs);
    }
    await server?.close({ graceMs: cfg.shutdownGraceMs });
    await app.close();
  });
}
