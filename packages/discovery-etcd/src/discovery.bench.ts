// Latency of registration and of membership changes reaching a watcher, against a real etcd,
// compared with the same steps done directly on etcd3 (lease.put, watch) without the package's
// claim transaction, deadlines and list folding. Writes bench-results/discovery-etcd.md.
import { mkdirSync, writeFileSync } from "node:fs";
import { startEtcd } from "@geecache/testkit";
import { Etcd3 } from "etcd3";
import { createEtcdDiscovery } from "./discovery.ts";

const N = Number(process.env.BENCH_N ?? 100);
const etcd = await startEtcd();
const ours = createEtcdDiscovery({ endpoints: [etcd.endpoint], cluster: "bench" });
const raw = new Etcd3({ hosts: etcd.endpoint });

const stats = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  return { p50: at(0.5), p95: at(0.95) };
};
const fmt = (x: number) => `${x.toFixed(2)} ms`;

// A watcher callback that resolves the pending expectation once its predicate holds.
let expect: { pred: (ids: string[]) => boolean; resolve: () => void } | undefined;
const until = (pred: (ids: string[]) => boolean) =>
  new Promise<void>((resolve) => {
    expect = { pred, resolve };
  });
const notify = (ids: string[]) => {
  if (expect?.pred(ids)) {
    const e = expect;
    expect = undefined;
    e.resolve();
  }
};

// Both watchers run from the start; rounds alternate between ours and raw so warm-up and
// machine noise fall on both alike.
await ours.watch((m) => notify(m.map((r) => r.id)), { debounceMs: 0 });
const members = new Set<string>();
const watcher = await raw.watch().prefix("/raw/bench/nodes/").create();
watcher.on("put", (kv) => {
  members.add(kv.key.toString());
  notify([...members]);
});
watcher.on("delete", (kv) => {
  members.delete(kv.key.toString());
  notify([...members]);
});

const oursRegister: number[] = [];
const oursJoin: number[] = [];
const oursLeave: number[] = [];
const rawRegister: number[] = [];
const rawJoin: number[] = [];
const rawLeave: number[] = [];

// Ours: register (lease grant + claim transaction), join seen by a watcher, leave seen.
async function oursRound(i: number) {
  const id = `n${i}`;
  const joined = until((ids) => ids.includes(id));
  const t0 = performance.now();
  const reg = await ours.register({ id, address: `127.0.0.1:${10_000 + i}` }, { ttlSec: 10 });
  oursRegister.push(performance.now() - t0);
  await joined;
  oursJoin.push(performance.now() - t0);
  const left = until((ids) => !ids.includes(id));
  const t1 = performance.now();
  await reg.close();
  await left;
  oursLeave.push(performance.now() - t1);
}

// Raw etcd3: lease + put, a prefix watch, revoke.
async function rawRound(i: number) {
  const key = `/raw/bench/nodes/n${i}`;
  const joined = until((ids) => ids.includes(key));
  const t0 = performance.now();
  const lease = raw.lease(10);
  await lease.put(key).value(JSON.stringify({ id: `n${i}`, address: `127.0.0.1:${10_000 + i}` }));
  rawRegister.push(performance.now() - t0);
  await joined;
  rawJoin.push(performance.now() - t0);
  const left = until((ids) => !ids.includes(key));
  const t1 = performance.now();
  await lease.revoke();
  await left;
  rawLeave.push(performance.now() - t1);
}

for (let i = 0; i < N; i++) {
  if (i % 2 === 0) {
    await oursRound(i);
    await rawRound(i);
  } else {
    await rawRound(i);
    await oursRound(i);
  }
}
await watcher.cancel();
raw.close();
await ours.close();
await etcd.stop();

const rows: [string, number[], number[]][] = [
  ["register (resolves)", oursRegister, rawRegister],
  ["join seen by a watcher (from register)", oursJoin, rawJoin],
  ["graceful leave seen by a watcher", oursLeave, rawLeave],
];
const lines = [
  "## discovery-etcd",
  "",
  `Command: \`pnpm --filter @geecache/discovery-etcd bench\` · Node ${process.version} · ${new Date().toISOString().slice(0, 10)} · etcd on 127.0.0.1 (single member, started by the bench) · ${N} rounds, watcher debounce 0`,
  "",
  "| step | ours p50 | ours p95 | raw etcd3 p50 | raw etcd3 p95 | ratio p50 (ours/raw) |",
  "|---|---|---|---|---|---|",
];
for (const [name, o, r] of rows) {
  const so = stats(o);
  const sr = stats(r);
  lines.push(
    `| ${name} | ${fmt(so.p50)} | ${fmt(so.p95)} | ${fmt(sr.p50)} | ${fmt(sr.p95)} | ${(so.p50 / sr.p50).toFixed(2)}× |`,
  );
}
lines.push(
  "",
  "Raw etcd3 is `lease(10)` + `lease.put(key)`, a prefix `watch()` and `lease.revoke()`. Ours adds the claim transaction (create only if absent: no silent overwrite of a live duplicate) and a delete-if-ours next to the revoke. In production the watcher's debounce (200 ms by default) dominates these numbers; a crashed node is seen after its lease TTL instead.",
);
const md = `${lines.join("\n")}\n`;
process.stdout.write(md);
mkdirSync(new URL("../../../bench-results/", import.meta.url), { recursive: true });
writeFileSync(new URL("../../../bench-results/discovery-etcd.md", import.meta.url), md);
