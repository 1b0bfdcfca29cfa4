// Real node and gateway processes on loopback ports, for the end-to-end tests and the cluster
// benchmark. Both apps run from their built dist/ (turbo builds them before tests).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { createRingPeerPicker } from "@geecache/core";
import { freePorts, type Spawned, spawnProcess, stopAll } from "@geecache/testkit";

export const nodeMain = fileURLToPath(new URL("../../../node/dist/main.js", import.meta.url));
export const gatewayMain = fileURLToPath(new URL("../../dist/main.js", import.meta.url));

/** ClusterOptions configure startCluster. */
export interface ClusterOptions {
  nodes?: number;
  /** Extra flags for every node (e.g. ["--demo-delay", "100ms"]). */
  nodeArgs?: readonly string[];
  gatewayArgs?: readonly string[];
  /** Start the nodes with these flags instead of static --peers (e.g. ["--etcd", url]). */
  membershipArgs?: readonly string[];
  /** Give each node only itself as peer: independent caches (the gateway still knows all). */
  standalone?: boolean;
  echo?: boolean;
}

/** Cluster is a running set of nodes and a gateway. */
export interface Cluster {
  /** The nodes' advertised addresses, "127.0.0.1:port". */
  addresses: string[];
  nodes: Spawned[];
  gateway: Spawned;
  gatewayUrl: string;
  /** Starts one more node with the same flags on a free port (for join tests). */
  addNode(): Promise<{ address: string; process: Spawned }>;
  stop(): Promise<void>;
}

/** startNode starts one node process and waits until it listens (and joined, with etcd). */
export function startNode(port: number, args: readonly string[], echo = false): Promise<Spawned> {
  return spawnProcess({
    name: `node:${port}`,
    args: [nodeMain, "--port", String(port), ...args],
    env: { LOG_LEVEL: "info" },
    ready: "geecache node listening",
    readyTimeoutMs: 20_000,
    echo,
  });
}

/** startGateway starts a gateway process on port and waits until it listens. */
export function startGateway(
  port: number,
  args: readonly string[],
  echo = false,
): Promise<Spawned> {
  return spawnProcess({
    name: `gateway:${port}`,
    args: [gatewayMain, "--port", String(port), ...args],
    ready: "geecache gateway listening",
    readyTimeoutMs: 20_000,
    echo,
  });
}

/** startCluster starts the nodes (static peers unless membershipArgs) and then the gateway. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const n = options.nodes ?? 3;
  const ports = await freePorts(n + 1);
  const gatewayPort = ports.pop()!;
  const addresses = ports.map((p) => `127.0.0.1:${p}`);
  const membership = options.membershipArgs ?? ["--peers", addresses.join(",")];
  const nodeArgs = [...membership, ...(options.nodeArgs ?? [])];
  const argsFor = (port: number) =>
    options.standalone === true
      ? ["--peers", `127.0.0.1:${port}`, ...(options.nodeArgs ?? [])]
      : nodeArgs;
  const started: Spawned[] = [];
  try {
    const nodes = await Promise.all(ports.map((p) => startNode(p, argsFor(p), options.echo)));
    started.push(...nodes);
    const gateway = await startGateway(
      gatewayPort,
      [
        ...(options.membershipArgs ?? ["--peers", addresses.join(",")]),
        ...(options.gatewayArgs ?? []),
      ],
      options.echo,
    );
    started.push(gateway);
    return {
      addresses,
      nodes,
      gateway,
      gatewayUrl: `http://127.0.0.1:${gatewayPort}`,
      async addNode() {
        const [port] = await freePorts(1);
        const process = await startNode(port!, argsFor(port!), options.echo);
        started.push(process);
        addresses.push(`127.0.0.1:${port}`);
        nodes.push(process);
        return { address: `127.0.0.1:${port}`, process };
      },
      stop: () => stopAll(started).then(() => undefined),
    };
  } catch (err) {
    await stopAll(started);
    throw err;
  }
}

/** connectGetUrl is the Connect-protocol GET of one key at a node (what curl or a browser sends). */
export function connectGetUrl(address: string, key: string, group = "scores"): string {
  const message = encodeURIComponent(JSON.stringify({ group, key }));
  return `http://${address}/geecache.v1.CacheService/Get?connect=v1&encoding=json&message=${message}`;
}

/** NodeStatsBody is the part of a node's GET /stats the tests read. */
export interface NodeStatsBody {
  id: string;
  peers: string[];
  downPeers: string[];
  policy: string;
  groups: Record<string, { loads?: number; localLoads?: number; [k: string]: unknown }>;
  source: { kind: string; loads: { byKey: Record<string, number>; missing: number } };
}

/** nodeStats reads a node's GET /stats. */
export async function nodeStats(address: string): Promise<NodeStatsBody> {
  const res = await fetch(`http://${address}/stats`, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`${address}/stats: HTTP ${res.status}`);
  return (await res.json()) as NodeStatsBody;
}

/** loadsOf sums the demo source's lookups of key over the nodes, and says who did them. */
export async function loadsOf(
  addresses: readonly string[],
  key: string,
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const a of addresses) {
    const n = (await nodeStats(a)).source.loads.byKey[key] ?? 0;
    if (n > 0) out[a] = n;
  }
  return out;
}

/** Origin is an HTTP source of truth in the test process that counts its loads per key. */
export interface Origin {
  /** The flags that make a node load from it (`--source http --origin-url …`). */
  sourceArgs: string[];
  /** Requests per key so far. */
  loads: Map<string, number>;
  /** All requests so far. */
  total(): number;
  close(): void;
}

/** startOrigin serves `v:<key>` for any key, after delayMs, counting each request. */
export async function startOrigin(delayMs = 0): Promise<Origin> {
  const loads = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const key = decodeURIComponent(req.url!.split("/").pop()!);
    loads.set(key, (loads.get(key) ?? 0) + 1);
    const answer = () => res.writeHead(200, { "content-type": "text/plain" }).end(`v:${key}`);
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/{group}/{key}`;
  return {
    sourceArgs: ["--source", "http", "--origin-url", url],
    loads,
    total: () => [...loads.values()].reduce((a, b) => a + b, 0),
    close: () => server.close(),
  };
}

/** ownerIn is the owner of key among addresses, by the ring every node and gateway builds. */
export function ownerIn(addresses: readonly string[], key: string): string {
  const ring = createRingPeerPicker({
    createPeer: (address) => ({ id: address, get: () => Promise.reject(new Error("not used")) }),
  });
  ring.setPeers([...addresses]);
  return ring.ownerOf(key)!;
}

/** waitFor polls check until it returns true, failing after timeoutMs with what it saw last. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  while (performance.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
}

/** waitForMembers polls until every node at addresses and the gateway see n members. */
export function waitForMembers(
  cluster: Cluster,
  addresses: readonly string[],
  n: number,
  timeoutMs = 20_000,
): Promise<void> {
  return waitFor(
    `every node and the gateway to see ${n} members`,
    async () => {
      const seen = await Promise.all(addresses.map(nodeStats));
      const res = await fetch(`${cluster.gatewayUrl}/healthz`);
      const health = (await res.json()) as { nodes: number };
      return seen.every((s) => s.peers.length === n) && health.nodes === n;
    },
    timeoutMs,
  );
}
