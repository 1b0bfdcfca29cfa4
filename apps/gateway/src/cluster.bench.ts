// The cluster through its front door: requests/s and latency of GET /api on a real gateway in
// front of three real nodes, beside a bare fastify route returning constant JSON (the ceiling of
// an HTTP/1.1 JSON endpoint on this machine), all in one run.
// Run: pnpm --filter @geecache/gateway bench   (writes bench-results/cluster.md)
import { mkdirSync, writeFileSync } from "node:fs";
import autocannon from "autocannon";
import Fastify from "fastify";
import { connectGetUrl, startCluster, startOrigin } from "./e2e/cluster.ts";

const DURATION_S = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = 32;
/** Keys cached before the run, asked at random in the many-keys row. */
const KEYS = 10_000;

interface Result {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  requests: number;
  /** Gets the key's owner saw during the run (the one-hot-key row only). */
  ownerGets?: number;
}

/** A url, or `{ randomKeyAfter }`: that url's path with `?key=` and one of KEYS keys at random, per request. */
type Target = string | { randomKeyAfter: string };

async function load(target: Target): Promise<Result> {
  const url = typeof target === "string" ? target : target.randomKeyAfter;
  const r = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION_S,
    pipelining: 1,
    ...(typeof target === "string"
      ? {}
      : {
          requests: [
            {
              setupRequest: (req: autocannon.Request) => ({
                ...req,
                path: `${new URL(url).pathname}?key=k${Math.floor(Math.random() * KEYS)}`,
              }),
            },
          ],
        }),
  });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.non2xx + r.timeouts,
    requests: r.requests.total,
  };
}

const bare = Fastify({ logger: false });
bare.get("/api", async () => ({ key: "Tom", group: "scores", value: "630" }));
await bare.listen({ host: "127.0.0.1", port: 0 });
const bareAddress = bare.server.address();
const bareUrl = `http://127.0.0.1:${typeof bareAddress === "object" && bareAddress ? bareAddress.port : 0}/api?key=Tom`;

// The source of truth: any key has a value, at once.
const origin = await startOrigin();

const cluster = await startCluster({
  nodeArgs: origin.sourceArgs,
  gatewayArgs: ["--access-log", "off"],
});
try {
  // Every node asked for Tom 50 times: the owner loads it once, and the others mirror it in
  // their hot caches (core samples peer fetches into the hot cache).
  const rpcGet = (address: string) => connectGetUrl(address, "Tom");
  for (const a of cluster.addresses) for (let i = 0; i < 50; i++) await fetch(rpcGet(a));
  const stats = await Promise.all(
    cluster.addresses.map(async (a) => {
      const s = (await (await fetch(`http://${a}/stats`)).json()) as {
        groups: { scores: { hotCacheHits: number; peerLoads: number; localLoads: number } };
      };
      return { address: a, ...s.groups.scores };
    }),
  );
  const ownerStats = stats.find((s) => s.localLoads > 0)!;
  const mirror = stats.find((s) => s.hotCacheHits > 0);
  if (mirror === undefined) throw new Error(`no node hot-cached Tom: ${JSON.stringify(stats)}`);

  // Every one of KEYS keys cached on its owner, 64 requests at a time.
  for (let i = 0; i < KEYS; i += 64) {
    await Promise.all(
      Array.from({ length: Math.min(64, KEYS - i) }, async (_, j) => {
        const res = await fetch(`${cluster.gatewayUrl}/api?key=k${i + j}`);
        if (!res.ok) throw new Error(`warming k${i + j}: ${res.status}`);
        await res.arrayBuffer();
      }),
    );
  }

  const ownerGets = async () => {
    const s = (await (await fetch(`http://${ownerStats.address}/stats`)).json()) as {
      groups: { scores: { gets: number } };
    };
    return s.groups.scores.gets;
  };
  const HOT = "gateway, one hot key (concurrent requests share a call)";
  const scenarios: [string, Target][] = [
    ["bare fastify, constant JSON (ceiling)", bareUrl],
    [
      `gateway → owner over gRPC, ${KEYS.toLocaleString("en")} keys cached on their owners, at random`,
      { randomKeyAfter: `${cluster.gatewayUrl}/api?key=` },
    ],
    [HOT, `${cluster.gatewayUrl}/api?key=Tom`],
    ["node's Connect GET, owner (main cache hit)", rpcGet(ownerStats.address)],
    ["node's Connect GET, non-owner (hot cache hit)", rpcGet(mirror.address)],
  ];
  const best = new Map<string, Result>();
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, target] of scenarios) {
      const getsBefore = name === HOT ? await ownerGets() : 0;
      const res = await load(target);
      if (name === HOT) res.ownerGets = (await ownerGets()) - getsBefore;
      console.log(r, name, Math.round(res.rps), "req/s", res.p50, res.p99, res.errors);
      const prev = best.get(name);
      if (prev === undefined || res.rps > prev.rps) best.set(name, res);
    }
  }
  const ceiling = best.get(scenarios[0]![0])!.rps;
  let md = `## cluster

Command: \`pnpm --filter @geecache/gateway bench\` · Node ${process.version} · ${new Date().toISOString().slice(0, 10)} · autocannon, ${CONNECTIONS} connections, ${DURATION_S} s per run, best of ${ROUNDS} interleaved rounds. Three node processes and a gateway process on 127.0.0.1 (static peers, an HTTP origin in the benchmark process that answers any key at once, gateway with \`--access-log off\`), and the load generator, share the machine's 2 cores.

| scenario | requests/s | p50 ms | p99 ms | errors | ratio to bare fastify |
|---|--:|--:|--:|--:|--:|
`;
  for (const [name] of scenarios) {
    const r = best.get(name)!;
    md += `| ${name} | ${Math.round(r.rps).toLocaleString("en")} | ${r.p50} | ${r.p99} | ${r.errors} | ${(r.rps / ceiling).toFixed(2)} |\n`;
  }
  const hot = best.get(HOT)!;
  const perCall = hot.requests / (hot.ownerGets ?? hot.requests);
  md += `
A request through the gateway is two HTTP hops (client → gateway over HTTP/1.1, gateway → owner over gRPC on a pooled HTTP/2 connection), each with its JSON or protobuf encoding, on a machine where the client, the gateway and the node compete for the same two cores; the bare route is one hop that does no work. With ${KEYS.toLocaleString("en")} keys asked at random, two of the ${CONNECTIONS} requests in flight rarely want the same key, so each request is a call to its owner. With one hot key, the gateway folds the requests that arrive while a call for it is in flight into that call, so it makes far fewer calls than it answers requests: in that row's best round the owner saw ${(hot.ownerGets ?? 0).toLocaleString("en")} gets for ${hot.requests.toLocaleString("en")} requests, ${perCall.toFixed(1)} requests per call. The hot-cache row is a non-owner node answering from its mirror of a popular key without asking the owner; it is measured at that node's Connect endpoint because the gateway always routes a key to its owner, where a hot cache is never consulted.

Where the time goes (profiled with \`--cpu-prof\`, not part of this run): each process competes with the load generator for the two cores. The gateway's call to the owner is a hand-made unary gRPC call (\`grpcUnary\` in @geecache/transport-connect) on connect-node's pooled HTTP/2 session. connect-es's generic client, used before, spent most of the gateway's CPU on async-iterable plumbing and on a \`ConnectError\` and a \`DOMException\` built per call only to close its streams: a call, client and server together, takes about 0.6× the CPU without it (the transport-connect benchmark above), and the gateway row with many keys (each request a call) went from 0.06× to 0.10–0.11× of the bare route on the same day. What remains on the gateway is fastify, HTTP/2 framing and protobuf; on the node, connect-es's server handler (which still builds a \`DOMException\` per call). A gateway scales out by running more gateway processes, which share nothing.
`;
  console.log(md);
  mkdirSync(new URL("../../../bench-results/", import.meta.url), { recursive: true });
  writeFileSync(new URL("../../../bench-results/cluster.md", import.meta.url), md);
} finally {
  await cluster.stop();
  await bare.close();
  origin.close();
}
