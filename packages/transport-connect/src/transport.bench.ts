// Benchmarks the one-port server against plain Node servers running the same Connect handler,
// so the ratio is the cost of sniffing each connection (HTTP/2 vs HTTP/1.1) on one port.
// Writes bench-results/transport-connect.md at the repository root.
import { mkdir, writeFile } from "node:fs/promises";
import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { loadavg } from "node:os";
import { createClient } from "@connectrpc/connect";
import {
  connectNodeAdapter,
  createConnectTransport,
  createGrpcTransport,
} from "@connectrpc/connect-node";
import { createRegistry } from "@geecache/core";
import { CacheService } from "@geecache/proto";
import { createCacheService } from "./cache-service.ts";
import { createPeerClient } from "./peer-client.ts";
import { startCacheServer } from "./server.ts";

const defaultRequests = Number(process.env.BENCH_REQUESTS ?? 8_000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 64);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);

const registry = createRegistry();
registry.newGroup({ name: "scores", maxBytes: 1 << 20, getter: () => "630" });
await registry.mustGet("scores").get("Tom"); // every request below is a cache hit

interface Result {
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU time of this process (client and server) per call, in µs. */
  cpuUs: number;
}

// Runs `requests` calls with `concurrency` in flight, recording each call's latency.
async function measure(call: () => Promise<unknown>, requests = defaultRequests): Promise<Result> {
  const latencies = new Float64Array(requests);
  let next = 0;
  const start = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const i = next++;
        const t = performance.now();
        await call();
        latencies[i] = performance.now() - t;
      }
    }),
  );
  const elapsed = performance.now() - start;
  const used = process.cpuUsage(cpu);
  latencies.sort();
  return {
    opsPerSec: (requests / elapsed) * 1000,
    p50Ms: latencies[Math.floor(requests * 0.5)] ?? 0,
    p99Ms: latencies[Math.floor(requests * 0.99)] ?? 0,
    cpuUs: (used.user + used.system) / requests,
  };
}

function median(results: Result[]): Result {
  const sorted = [...results].sort((a, b) => a.opsPerSec - b.opsPerSec);
  return sorted[Math.floor(sorted.length / 2)] as Result;
}

function listen(server: http.Server | http2.Http2Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );
}

// The same handler options as startCacheServer's defaults, so only the one-port design differs.
const handler = connectNodeAdapter({
  routes: createCacheService(registry),
  readMaxBytes: 64 * 1024,
  maxTimeoutMs: 60_000,
  shutdownSignal: new AbortController().signal,
});
const plainH2 = http2.createServer(handler);
const plainH1 = http.createServer(handler);
const onePort = await startCacheServer({ registry, port: 0 });
const h2Port = await listen(plainH2);
const h1Port = await listen(plainH1);

const request = { group: "scores", key: "Tom" };
const grpc = (port: number) => {
  const peer = createPeerClient(`127.0.0.1:${port}`, { timeoutMs: 10_000 });
  return { call: () => peer.get(request), close: () => peer.close() };
};
const connectH1 = (port: number) => {
  const client = createClient(
    CacheService,
    createConnectTransport({ baseUrl: `http://127.0.0.1:${port}`, httpVersion: "1.1" }),
  );
  return { call: () => client.get(request), close: async () => undefined };
};

const cases = [
  { name: "gRPC (h2c), PeerClient", ours: grpc(onePort.address.port), plain: grpc(h2Port) },
  {
    name: "Connect JSON over HTTP/1.1",
    ours: connectH1(onePort.address.port),
    plain: connectH1(h1Port),
  },
];

const rows: string[] = [];
for (const c of cases) {
  await measure(c.ours.call, 2_000); // warm up connections and the JIT
  await measure(c.plain.call, 2_000);
  const ours: Result[] = [];
  const plain: Result[] = [];
  // Alternate, so drift in the shared machine's load hits both sides alike.
  for (let r = 0; r < rounds; r++) {
    ours.push(await measure(c.ours.call));
    plain.push(await measure(c.plain.call));
  }
  const o = median(ours);
  const p = median(plain);
  const fmt = (x: Result) =>
    `${Math.round(x.opsPerSec).toLocaleString("en-US")} | ${x.p50Ms.toFixed(2)} | ${x.p99Ms.toFixed(2)}`;
  rows.push(
    `| ${c.name} | one-port server | ${fmt(o)} | ${(o.opsPerSec / p.opsPerSec).toFixed(2)} |`,
  );
  rows.push(`| ${c.name} | plain Node server | ${fmt(p)} | 1.00 |`);
  await c.ours.close();
  await c.plain.close();
}

// The peer call: PeerClient.get (a unary gRPC call made directly on the pooled HTTP/2 session)
// against connect-es's generic gRPC client, on the same one-port server.
const genericClient = createClient(
  CacheService,
  createGrpcTransport({ baseUrl: `http://127.0.0.1:${onePort.address.port}` }),
);
const genericCall = { call: () => genericClient.get(request, { timeoutMs: 10_000 }) };
const peerCall = grpc(onePort.address.port);
await measure(peerCall.call, 2_000);
await measure(genericCall.call, 2_000);
const direct: Result[] = [];
const viaConnect: Result[] = [];
for (let r = 0; r < rounds; r++) {
  direct.push(await measure(peerCall.call));
  viaConnect.push(await measure(genericCall.call));
}
await peerCall.close();
const medianCpu = (results: Result[]) =>
  [...results].sort((a, b) => a.cpuUs - b.cpuUs)[Math.floor(results.length / 2)]!.cpuUs;
const d = median(direct);
const g = median(viaConnect);
const dCpu = medianCpu(direct);
const gCpu = medianCpu(viaConnect);
const clientRows = [
  `| PeerClient.get (direct on the HTTP/2 session) | ${Math.round(d.opsPerSec).toLocaleString("en-US")} | ${d.p50Ms.toFixed(2)} | ${Math.round(dCpu)} | ${(dCpu / gCpu).toFixed(2)} |`,
  `| connect-es createClient + createGrpcTransport | ${Math.round(g.opsPerSec).toLocaleString("en-US")} | ${g.p50Ms.toFixed(2)} | ${Math.round(gCpu)} | 1.00 |`,
];

await onePort.close({ graceMs: 1_000 });
plainH2.close();
plainH1.closeAllConnections();
plainH1.close();

const markdown = `## transport-connect

Command: \`pnpm --filter @geecache/transport-connect bench\` · Node ${process.version} · ${new Date().toISOString().slice(0, 10)}

Unary \`Get\` of a cached key on 127.0.0.1, ${defaultRequests.toLocaleString("en-US")} requests with ${concurrency} in flight, median of ${rounds} alternating rounds. The one-port server (\`startCacheServer\`: sniffs each connection, then HTTP/2 or HTTP/1.1) against a plain \`http2.createServer\` / \`http.createServer\` running the same Connect handler with the same options, the ceiling; client and server share the process and the machine's 2 cores.

| protocol | server | requests/s | p50 ms | p99 ms | ratio to plain |
|---|---|---|---|---|---|
${rows.join("\n")}

The peer call, client against client, on the one-port server (same requests, medians of the same alternating rounds; CPU is the process's, client and server together):

| gRPC client | requests/s | p50 ms | CPU µs per call | CPU ratio |
|---|---|---|---|---|
${clientRows.join("\n")}

The one-port server reads a few bytes once per connection to pick HTTP/2 or HTTP/1.1, and on HTTP/1.1 counts in-flight requests per socket for a graceful drain; calls on a kept connection pay nothing else. On this shared machine (load average ${loadavg()[0]?.toFixed(1)} at the end of the run, other engineers' jobs included) rounds vary by ±25%, so differences under ~20% are within noise.
`;
const root = new URL("../../../", import.meta.url);
await mkdir(new URL("bench-results/", root), { recursive: true });
await writeFile(new URL("bench-results/transport-connect.md", root), markdown);
process.stdout.write(markdown);
