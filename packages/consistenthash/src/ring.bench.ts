// Lookups per second on a ring of 1,000 nodes with default replicas, the cost of applying a
// membership change, and balance, against `hashring` (the most used ring on npm) in the same run.
// Run: pnpm --filter @geecache/consistenthash bench
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import HashRing from "hashring";
import { createHashRing } from "./ring.ts";

const NODES = 1000;
const ROUNDS = 5;
const TIMED_RUNS = 9; // changes are short and this machine is shared: more runs, median
const addrs = Array.from({ length: NODES }, (_, i) => `10.0.${i >> 8}.${i & 255}:8001`);
// More distinct keys than hashring's 5,000-entry lookup cache, as in a cache's real key space.
const keys = Array.from({ length: 1 << 16 }, (_, i) => `user:${i * 7919}`);
let sink = 0;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

// rate runs fn over the keys for ~ms milliseconds and returns calls per second.
function rate(fn: (key: string) => unknown, ms: number): number {
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 4096; i++) sink += fn(keys[(n + i) & 0xffff]!) === undefined ? 1 : 0;
    n += 4096;
    now = performance.now();
  }
  return n / ((now - start) / 1000);
}

// time returns the median duration in ms of fn over TIMED_RUNS runs, each after a fresh setup.
function time<S>(setup: () => S, fn: (s: S) => void): number {
  const ds: number[] = [];
  for (let r = 0; r < TIMED_RUNS; r++) {
    const s = setup();
    // Collect the setup's garbage first, so a GC it caused is not charged to fn.
    (globalThis as { gc?: () => void }).gc?.();
    const t = performance.now();
    fn(s);
    ds.push(performance.now() - t);
  }
  return median(ds);
}

const ours = createHashRing();
ours.set(addrs);
const theirs = new HashRing(addrs); // md5, 40 vnodes × 4 = 160 points per server, like ours
if (ours.get(keys[0]!) === undefined || !addrs.includes(theirs.get(keys[0]!))) {
  throw new Error("a ring failed the sanity check");
}

// Alternate rounds so both see the same machine load.
const getOurs: number[] = [];
const getTheirs: number[] = [];
const getNOurs: number[] = [];
const getNTheirs: number[] = [];
rate((k) => ours.get(k), 200);
rate((k) => theirs.get(k), 200);
for (let r = 0; r < ROUNDS; r++) {
  getOurs.push(rate((k) => ours.get(k), 400));
  getTheirs.push(rate((k) => theirs.get(k), 400));
  getNOurs.push(rate((k) => ours.getN(k, 3), 300));
  getNTheirs.push(rate((k) => theirs.range(k, 3), 300));
}

const joinOurs = time(
  () => {
    const r = createHashRing();
    r.set(addrs.slice(0, NODES - 1));
    r.get("warm");
    return r;
  },
  (r) => {
    r.add(addrs[NODES - 1]!);
    r.get("x");
  },
);
const joinTheirs = time(
  () => new HashRing(addrs.slice(0, NODES - 1)),
  (r) => {
    r.add(addrs[NODES - 1]!);
    r.get("x");
  },
);
const leaveOurs = time(
  () => {
    const r = createHashRing();
    r.set(addrs);
    r.get("warm");
    return r;
  },
  (r) => {
    r.remove(addrs[500]!);
    r.get("x");
  },
);
const leaveTheirs = time(
  () => new HashRing(addrs),
  (r) => {
    r.remove(addrs[500]!);
    r.get("x");
  },
);
const buildOurs = time(
  () => undefined,
  () => {
    createHashRing().set(addrs);
  },
);
const buildOursFirstGet = time(
  () => undefined,
  () => {
    const r = createHashRing();
    r.set(addrs);
    r.get("x");
  },
);
const buildTheirs = time(
  () => undefined,
  () => {
    new HashRing(addrs).get("x");
  },
);
// Discovery hands over the whole membership on each change: set() with one newcomer.
const handover = time(
  () => {
    const r = createHashRing();
    r.set(addrs.slice(0, NODES - 1));
    r.get("warm");
    return r;
  },
  (r) => {
    r.set(addrs);
    r.get("x");
  },
);

// Balance: max/mean keys per node, 100 equal nodes, 200,000 keys.
function maxOverMean(get: (k: string) => string | undefined): number {
  const m = new Map<string | undefined, number>();
  for (let i = 0; i < 200_000; i++) {
    const o = get(`key-${i}`);
    m.set(o, (m.get(o) ?? 0) + 1);
  }
  return Math.max(...m.values()) / (200_000 / 100);
}
const small = createHashRing();
small.set(addrs.slice(0, 100));
const smallTheirs = new HashRing(addrs.slice(0, 100), "md5", { "max cache size": 1 });
const balOurs = maxOverMean((k) => small.get(k));
const balTheirs = maxOverMean((k) => smallTheirs.get(k));

const m = (x: number) => `${(x / 1e6).toFixed(2)} M`;
const ms = (x: number) => `${x.toFixed(2)} ms`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}×`;
const md = `## consistenthash

Command: \`pnpm --filter @geecache/consistenthash bench\` · Node ${process.version} · ${new Date().toISOString().slice(0, 10)} · load average ${loadavg()[0]!.toFixed(1)}

${NODES} nodes, 160 points each (ours: 160 replicas, FNV-1a + fmix32; \`hashring\` 3.2.0: its defaults,
md5, 40 vnodes × 4 = 160 points). Lookups over 65,536 distinct keys, more than \`hashring\`'s
5,000-entry lookup cache holds; throughput is the median of ${ROUNDS} alternating rounds, times are the
median of ${TIMED_RUNS} runs, each on a fresh ring after a forced GC (\`--expose-gc\`).

| measure | @geecache/consistenthash | hashring | ours vs hashring |
|---|---|---|---|
| \`get(key)\` lookups/s | ${m(median(getOurs))} | ${m(median(getTheirs))} | ${ratio(median(getOurs), median(getTheirs))} faster |
| \`getN(key, 3)\` / \`range(key, 3)\` calls/s | ${m(median(getNOurs))} | ${m(median(getNTheirs))} | ${ratio(median(getNOurs), median(getNTheirs))} faster |
| one node joins 999 (change + first lookup) | ${ms(joinOurs)} | ${ms(joinTheirs)} | ${ratio(joinTheirs, joinOurs)} faster |
| one node of 1,000 leaves (change + first lookup) | ${ms(leaveOurs)} | ${ms(leaveTheirs)} | ${ratio(leaveTheirs, leaveOurs)} faster |
| build 1,000 nodes from scratch (\`set\` + first lookup / constructor) | ${ms(buildOursFirstGet)} | ${ms(buildTheirs)} | ${ratio(buildTheirs, buildOursFirstGet)} faster |
| \`set\` of 1,000 on a ring of those 999 (whole-membership handover) | ${ms(handover)} | n/a (no set; rebuild from scratch) | ${ratio(buildTheirs, handover)} faster than its rebuild |
| balance, 100 nodes, 200k keys: max/mean load | ${balOurs.toFixed(3)} | ${balTheirs.toFixed(3)} | |

\`set\` alone (no lookup) takes ${ms(buildOurs)}: changes are applied lazily on the next lookup.
Applying a change filters the points of nodes that left and merges the sorted points of nodes
that joined, so its cost is one pass over the ${(NODES * 160).toLocaleString("en")} points, not a re-sort;
\`hashring\` re-hashes and re-sorts every point on each add or remove. A lookup is one FNV-1a
pass over the key and a binary search in a \`Uint32Array\`; \`hashring\` computes an md5 digest.
`;
if (sink < 0) console.log(sink);
console.log(md);
const out = new URL("../../../bench-results/", import.meta.url);
mkdirSync(out, { recursive: true });
writeFileSync(new URL("consistenthash.md", out), md);
