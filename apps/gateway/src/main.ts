// The gateway's command line: flags and environment, the ring of nodes, listen, signals.
import { setTimeout as sleep } from "node:timers/promises";
import { configOrExit, logCrashes, stopProcess, usageExit } from "@geecache/cli";
import { createRingPeerPicker, GeeCacheError } from "@geecache/core";
import { createEtcdDiscovery, type EtcdDiscovery } from "@geecache/discovery-etcd";
import { createPeerClient, type PeerClient } from "@geecache/transport-connect";
import { pino } from "pino";
import { buildGateway } from "./build-app.ts";
import { gatewayUsage, parseGatewayConfig } from "./config.ts";
import { createGrace } from "./grace.ts";

const usageError = (err: unknown) => usageExit("geecache-gateway", gatewayUsage, err);
const cfg = configOrExit("geecache-gateway", gatewayUsage, () =>
  parseGatewayConfig(process.argv.slice(2), process.env),
);
let stopping = false;
const logger = pino({ level: cfg.logLevel, base: { service: "gateway" } });
logCrashes(logger);
// Past the shutdown grace the calls still waiting on a node are aborted, so their requests are
// answered 503 and the gateway exits 0, as a node does past its grace.
const grace = createGrace();
const shuttingDown = (cause?: unknown) =>
  new GeeCacheError("UNAVAILABLE", "the gateway is shutting down", { cause });

// The gateway is not a member (no self): it routes every key to its owner with the same ring
// the nodes build from the same advertised addresses. The clients are kept by address so
// /api/stats reuses the pooled connections of the data path.
const clients = new Map<string, PeerClient>();
const ring = createRingPeerPicker({
  logger: logger.child({ component: "ring" }),
  // Hand-off is for nodes that load; the gateway would only keep an old ring for nothing.
  handoffWindowMs: 0,
  createPeer(address) {
    const client = createPeerClient(address, { timeoutMs: cfg.timeoutMs });
    clients.set(address, client);
    return {
      id: client.id,
      async get(request, options) {
        if (grace.over) throw shuttingDown();
        try {
          return await grace.run(options?.signal, (signal) =>
            client.get(request, { ...options, signal }),
          );
        } catch (err) {
          // UNAVAILABLE, not the client's CANCELED: the request is answered 503.
          if (grace.over && options?.signal?.aborted !== true) throw shuttingDown(err);
          throw err;
        }
      },
      probe: () => client.probe(),
      async close() {
        clients.delete(address);
        await client.close();
      },
    };
  },
});
let discovery: EtcdDiscovery | undefined;
let membersRead: Promise<void> = Promise.resolve();
if (cfg.etcd === undefined) ring.setPeers(cfg.peers);
else {
  discovery = createEtcdDiscovery({ ...cfg.etcd, logger: logger.child({ component: "etcd" }) });
  membersRead = followMembers(discovery);
}

// The gateway serves (503s) even while etcd is unreachable at startup, and keeps trying to read
// the members; once the watch runs, discovery-etcd itself rides out later outages.
async function followMembers(d: EtcdDiscovery): Promise<void> {
  // A node that restarts re-registers under the same address and weight: the watch reports a
  // new record, but the ring is the same, so there is no membership change to log.
  let lastRing: string | undefined;
  for (let delayMs = 200; !stopping; delayMs = Math.min(delayMs * 2, 5_000)) {
    try {
      await d.watch((members) => {
        ring.setPeers(members);
        const now = JSON.stringify(members.map((m) => `${m.address}*${m.weight ?? 1}`).sort());
        if (now !== lastRing) logger.info({ peers: ring.peers() }, "membership changed");
        lastRing = now;
      });
      return;
    } catch (err) {
      if (stopping) return;
      // One short line per retry; the error with its causes and stack only at debug (pino
      // would repeat each cause's message, which ours already holds).
      logger.debug({ err }, "reading the members from etcd failed");
      const reason = err instanceof Error ? err.message : String(err);
      logger.warn({ reason, retryInMs: delayMs }, "cannot read the members from etcd yet");
      await sleep(delayMs);
    }
  }
}

let app: ReturnType<typeof buildGateway>;
try {
  app = buildGateway({
    ring,
    nodeStats: async (address, { signal }) => {
      const client = clients.get(address);
      if (client === undefined) throw new Error(`${address} is not a member`);
      return grace.run(signal, (s) => client.stats({ signal: s }));
    },
    defaultGroup: cfg.defaultGroup,
    timeoutMs: cfg.timeoutMs,
    maxKeyBytes: cfg.maxKeyBytes,
    loggerInstance: logger,
    accessLog: cfg.accessLog,
  });
} catch (err) {
  // The config checks what it can; what fastify or the gateway still refuses is a bad flag too.
  if (err instanceof TypeError || err instanceof RangeError) usageError(err);
  throw err;
}

// on, not once: under `pnpm … start` Ctrl-C reaches this process twice (from the terminal and
// forwarded by pnpm), and with a once handler the second would kill it mid-shutdown. A repeat is
// ignored; the shutdown has its own deadline.
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
// Listen once the first member list is in, so a gateway restarted under load answers its first
// requests; past one etcd deadline it listens anyway, answering 503 until etcd gives the list.
if (cfg.etcd !== undefined) {
  logger.info({ waitMs: cfg.etcd.callTimeoutMs }, "reading the member list before listening");
  // Unref'd: a wait cut short by the member list must not hold the process.
  await Promise.race([membersRead, sleep(cfg.etcd.callTimeoutMs, undefined, { ref: false })]);
}
// A signal during that wait has started the shutdown, which ends the process: no listening.
if (!stopping) await listen();

async function listen(): Promise<void> {
  try {
    await app.listen({ host: cfg.host, port: cfg.port });
  } catch (err) {
    // EADDRINUSE, EACCES, EADDRNOTAVAIL: one line that says what could not be done, no stack.
    const { code, message } = err as NodeJS.ErrnoException;
    logger.fatal({ code }, `cannot listen on ${cfg.host}:${cfg.port}: ${message}`);
    stopping = true;
    await discovery?.close();
    await ring.close();
    process.exit(1);
  }
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
}

async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal, graceMs: cfg.shutdownGraceMs }, "shutting down");
  // Node closes the keep-alive sockets that are idle when closing starts, not the ones that
  // become idle after their last response; those would hold app.close() until the deadline.
  setInterval(() => app.server.closeIdleConnections(), 50).unref();
  setTimeout(() => {
    logger.warn("shutdown grace passed, cancelling the requests still in flight");
    grace.abortAll();
  }, cfg.shutdownGraceMs).unref();
  // fastify stops accepting, answers 503 to new requests on kept-alive sockets, and waits for
  // the in-flight ones.
  await stopProcess(logger, cfg.shutdownGraceMs + 2_000, async () => {
    await app.close();
    await discovery?.close();
    await ring.close();
  });
}
