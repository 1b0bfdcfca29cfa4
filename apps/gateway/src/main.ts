// The gateway's command line: flags and environment, the ring of nodes, listen, signals.
import { setTimeout as sleep } from "node:timers/promises";
import { createRingPeerPicker } from "@geecache/core";
import { createEtcdDiscovery, type EtcdDiscovery } from "@geecache/discovery-etcd";
import { createPeerClient, type PeerClient } from "@geecache/transport-connect";
import { pino } from "pino";
import { buildGateway } from "./build-app.ts";
import { gatewayUsage, parseGatewayConfig } from "./config.ts";

let config: ReturnType<typeof parseGatewayConfig>;
try {
  config = parseGatewayConfig(process.argv.slice(2), process.env);
} catch (err) {
  process.stderr.write(`geecache-gateway: ${(err as Error).message}\n\n${gatewayUsage}\n`);
  process.exit(2);
}
if (config === undefined) {
  process.stdout.write(`${gatewayUsage}\n`);
  process.exit(0);
}
const cfg = config;
let stopping = false;
const logger = pino({ level: cfg.logLevel, base: { service: "gateway" } });

// The gateway is not a member (no self): it routes every key to its owner with the same ring
// the nodes build from the same advertised addresses. The clients are kept by address so
// /api/stats reuses the pooled connections of the data path.
const clients = new Map<string, PeerClient>();
const ring = createRingPeerPicker({
  logger: logger.child({ component: "ring" }),
  createPeer(address) {
    const client = createPeerClient(address, { timeoutMs: cfg.timeoutMs });
    clients.set(address, client);
    return {
      id: client.id,
      get: (request, options) => client.get(request, options),
      probe: () => client.probe(),
      async close() {
        clients.delete(address);
        await client.close();
      },
    };
  },
});
let discovery: EtcdDiscovery | undefined;
if (cfg.etcd === undefined) ring.setPeers(cfg.peers);
else {
  discovery = createEtcdDiscovery({ ...cfg.etcd, logger: logger.child({ component: "etcd" }) });
  void followMembers(discovery);
}

// The gateway serves (503s) even while etcd is unreachable at startup, and keeps trying to read
// the members; once the watch runs, discovery-etcd itself rides out later outages.
async function followMembers(d: EtcdDiscovery): Promise<void> {
  for (let delayMs = 200; !stopping; delayMs = Math.min(delayMs * 2, 5_000)) {
    try {
      await d.watch((members) => {
        ring.setPeers(members);
        logger.info({ peers: ring.peers() }, "membership changed");
      });
      return;
    } catch (err) {
      if (stopping) return;
      logger.warn({ err, retryInMs: delayMs }, "cannot read the members from etcd yet");
      await sleep(delayMs);
    }
  }
}

const app = buildGateway({
  ring,
  nodeStats: async (address) => {
    const client = clients.get(address);
    if (client === undefined) throw new Error(`${address} is not a member`);
    return client.stats();
  },
  defaultGroup: cfg.defaultGroup,
  timeoutMs: cfg.timeoutMs,
  maxKeyBytes: cfg.maxKeyBytes,
  loggerInstance: logger,
  accessLog: cfg.accessLog,
});

process.once("SIGINT", shutdown);
process.once("SIGTERM", shutdown);
await app.listen({ host: cfg.host, port: cfg.port });
const address = app.server.address();
const port = typeof address === "object" && address !== null ? address.port : cfg.port;
logger.info(
  {
    address: `${cfg.host}:${port}`,
    membership:
      cfg.etcd === undefined
        ? cfg.peers
        : `etcd ${cfg.etcd.endpoints.join(",")} cluster ${cfg.etcd.cluster}`,
    timeoutMs: cfg.timeoutMs,
  },
  "geecache gateway listening",
);

async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal, graceMs: cfg.shutdownGraceMs }, "shutting down");
  setTimeout(() => {
    logger.error("shutdown deadline passed, exiting");
    process.exit(1);
  }, cfg.shutdownGraceMs).unref();
  try {
    // fastify stops accepting, answers 503 to new requests on kept-alive sockets, and waits for
    // the in-flight ones.
    await app.close();
    await discovery?.close();
    await ring.close();
    logger.info("stopped");
    process.exit(0);
  } catch (err) {
    logger.error({ err }, "shutdown failed");
    process.exit(1);
  }
}
