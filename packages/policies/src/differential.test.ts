/**
 * Differential test: FIFO, SIEVE and LFU against plain array models written from their docs
 * (fifo.ts, sieve.ts, lfu.ts doc comments; README "The policies"; base.ts for the shared
 * contract). After every operation it compares the returned value, size, bytes, the keys held,
 * the exact keys() order and the onEvicted events (key, value, reason, in order).
 *
 * DIFF_SEEDS=2000 DIFF_OPS=2000 node --test src/differential.test.ts   (default: 200 seeds of 600 operations per policy)
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Cache, CacheOptions, EvictionReason } from "@geecache/lru";
import { rng } from "@geecache/testkit";
import { createFIFO, createLFU, createSIEVE } from "./index.ts";

type K = string;
type V = number;
type Event = [K, V, EvictionReason];

interface ME {
  key: K;
  value: V;
  size: number;
  expiry: number;
  visited: boolean; // SIEVE
  freq: number; // LFU
  stamp: number; // LFU
}

/** A policy model: plain arrays, written from the documented behaviour. */
interface PolicyModel {
  place(e: ME, count: number): void; // a new key
  hit(e: ME, count: number): void; // get of a live key
  rewrite(e: ME, count: number): void; // set of a live key
  victim(): ME; // the next to evict (cache non-empty)
  remove(e: ME): void; // any removal
  order(): ME[]; // kept longest first
  reset(): void;
}

/** FIFO: evicts the oldest insertion; hits and rewrites change nothing. */
class FifoModel implements PolicyModel {
  q: ME[] = []; // oldest first
  place(e: ME) {
    this.q.push(e);
  }
  hit() {}
  rewrite() {}
  victim() {
    return this.q[0]!;
  }
  remove(e: ME) {
    this.q.splice(this.q.indexOf(e), 1);
  }
  order() {
    return [...this.q].reverse();
  }
  reset() {
    this.q = [];
  }
}

/**
 * SIEVE (NSDI'24 Fig. 1): queue oldest → newest, new at the newest end; a hit sets visited; the
 * hand starts at the oldest, clears visited bits as it moves toward newer entries (wrapping to
 * the oldest), evicts the first unvisited and then rests on its newer neighbour.
 */
class SieveModel implements PolicyModel {
  q: ME[] = []; // oldest first
  hand: ME | null = null;
  place(e: ME) {
    e.visited = false;
    this.q.push(e);
  }
  hit(e: ME) {
    e.visited = true;
  }
  rewrite(e: ME) {
    e.visited = true; // base.ts: "touch records a hit on e (get, or set of a present key)"
  }
  victim() {
    let i = this.hand === null ? 0 : this.q.indexOf(this.hand);
    while (this.q[i]!.visited) {
      this.q[i]!.visited = false;
      i = (i + 1) % this.q.length;
    }
    this.hand = this.q[i]!;
    return this.q[i]!;
  }
  remove(e: ME) {
    const i = this.q.indexOf(e);
    if (this.hand === e) this.hand = i + 1 < this.q.length ? this.q[i + 1]! : null;
    this.q.splice(i, 1);
  }
  order() {
    return [...this.q].reverse();
  }
  reset() {
    this.q = [];
    this.hand = null;
  }
}

/**
 * LFU: evict least frequent, least recently used among equals; every access (insert counts 1,
 * get and rewrite +1) is counted, and after max(160, 10 × size) accesses all counts are halved
 * (floor, at least 1), recency kept.
 */
class LfuModel implements PolicyModel {
  items: ME[] = [];
  clock = 0;
  ops = 0;
  place(e: ME, count: number) {
    e.freq = 1;
    e.stamp = ++this.clock;
    this.items.push(e);
    this.tick(count);
  }
  hit(e: ME, count: number) {
    e.freq++;
    e.stamp = ++this.clock;
    this.tick(count);
  }
  rewrite(e: ME, count: number) {
    this.hit(e, count);
  }
  tick(count: number) {
    if (++this.ops >= Math.max(160, 10 * count)) {
      this.ops = 0;
      for (const e of this.items) e.freq = Math.max(1, e.freq >> 1);
    }
  }
  victim() {
    let best = this.items[0]!;
    for (const e of this.items) {
      if (e.freq < best.freq || (e.freq === best.freq && e.stamp < best.stamp)) best = e;
    }
    return best;
  }
  remove(e: ME) {
    this.items.splice(this.items.indexOf(e), 1);
  }
  order() {
    return [...this.items].sort((a, b) => b.freq - a.freq || b.stamp - a.stamp);
  }
  reset() {
    this.items = [];
    this.ops = 0;
  }
}

/** The shared contract of base.ts, over a policy model. */
class ModelCache {
  map = new Map<K, ME>();
  bytes = 0;
  events: Event[] = [];
  ttlInUse: boolean;
  sweep: MapIterator<ME> | undefined;
  opNow = 0;
  readonly maxBytes: number;
  readonly maxEntries: number;
  readonly bySize: boolean;
  readonly p: PolicyModel;
  readonly opts: { maxBytes?: number; maxEntries?: number; ttlMs?: number };
  readonly now: () => number;
  constructor(
    p: PolicyModel,
    opts: { maxBytes?: number; maxEntries?: number; ttlMs?: number },
    now: () => number,
  ) {
    this.p = p;
    this.opts = opts;
    this.now = now;
    this.maxBytes = opts.maxBytes ?? Number.POSITIVE_INFINITY;
    this.maxEntries = opts.maxEntries ?? Number.POSITIVE_INFINITY;
    this.bySize = opts.maxBytes !== undefined;
    this.ttlInUse = opts.ttlMs !== undefined;
  }
  drop(e: ME, reason: EvictionReason) {
    this.map.delete(e.key);
    this.bytes -= e.size;
    this.p.remove(e);
    this.events.push([e.key, e.value, reason]);
  }
  live(key: K): ME | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    if (e.expiry <= this.now()) {
      this.drop(e, "expired");
      return undefined;
    }
    return e;
  }
  get(key: K) {
    const e = this.live(key);
    if (e === undefined) return undefined;
    this.p.hit(e, this.map.size);
    return e.value;
  }
  peek(key: K) {
    return this.live(key)?.value;
  }
  has(key: K) {
    return this.live(key) !== undefined;
  }
  delete(key: K) {
    const e = this.map.get(key);
    if (e === undefined) return false;
    const expired = e.expiry <= this.now();
    this.drop(e, expired ? "expired" : "deleted");
    return !expired;
  }
  clear() {
    const order = this.p.order();
    this.map.clear();
    this.bytes = 0;
    this.sweep = undefined;
    this.p.reset();
    for (const e of order.reverse()) this.events.push([e.key, e.value, "deleted"]);
  }
  evictOne() {
    const v = this.p.victim();
    this.drop(v, v.expiry <= this.opNow ? "expired" : "capacity");
  }
  set(key: K, value: V, size: number, ttlMs?: number): boolean {
    const ttl = ttlMs ?? this.opts.ttlMs;
    if (ttl !== undefined) this.ttlInUse = true;
    let now = 0;
    if (this.ttlInUse) {
      now = this.now();
      this.opNow = now;
      for (let k = 0; k < 2; k++) {
        if (this.sweep === undefined) {
          if (this.map.size === 0) break;
          this.sweep = this.map.values();
        }
        const r = this.sweep.next();
        if (r.done === true) {
          this.sweep = undefined;
          continue;
        }
        if (r.value.expiry <= now) this.drop(r.value, "expired");
      }
    }
    let e = this.map.get(key);
    if (size > this.maxBytes || this.maxEntries === 0) {
      if (e !== undefined) this.drop(e, e.expiry <= now ? "expired" : "deleted");
      return false;
    }
    if (e !== undefined && e.expiry <= now) {
      this.drop(e, "expired");
      e = undefined;
    }
    const expiry = ttl === undefined ? Number.POSITIVE_INFINITY : now + ttl;
    const over = () => this.bytes > this.maxBytes || this.map.size > this.maxEntries;
    if (e !== undefined) {
      const old = e.value;
      this.bytes += size - e.size;
      e.value = value;
      e.size = size;
      e.expiry = expiry;
      this.p.rewrite(e, this.map.size);
      if (old !== value) this.events.push([key, old, "replaced"]);
    } else {
      e = { key, value, size, expiry, visited: false, freq: 0, stamp: 0 };
      while (
        this.map.size > 0 &&
        (this.bytes + size > this.maxBytes || this.map.size >= this.maxEntries)
      ) {
        this.evictOne();
      }
      this.map.set(key, e);
      this.bytes += size;
      this.p.place(e, this.map.size);
    }
    while (this.map.size > 0 && over()) this.evictOne();
    return this.map.get(key) === e;
  }
  keys(): K[] {
    const now = this.ttlInUse ? this.now() : 0;
    return this.p
      .order()
      .filter((e) => e.expiry > now)
      .map((e) => e.key);
  }
}

type Factory = (o: CacheOptions<K, V>) => Cache<K, V>;
const policies: [string, Factory, () => PolicyModel][] = [
  ["fifo", createFIFO, () => new FifoModel()],
  ["sieve", createSIEVE, () => new SieveModel()],
  ["lfu", createLFU, () => new LfuModel()],
];

const budgets: { maxBytes?: number; maxEntries?: number }[] = [
  { maxEntries: 4 },
  { maxEntries: 1 },
  { maxEntries: 7 },
  { maxBytes: 12 },
  { maxBytes: 5 },
  { maxBytes: 16, maxEntries: 5 },
  // Large enough that LFU's ageing period is 10 × size, not the 160 floor.
  { maxEntries: 30 },
  { maxBytes: 70 },
  // Degenerate: only size-0 entries fit, or nothing does.
  { maxBytes: 0 },
  { maxEntries: 0 },
];

const SEEDS = Number(process.env.DIFF_SEEDS ?? 200);
const OPS = Number(process.env.DIFF_OPS ?? 600);

export function runSeed(name: string, seed: number, log?: string[]): void {
  const [, factory, makeModel] = policies.find(([n]) => n === name)!;
  const random = rng(seed * 9973 + name.length);
  const budget = budgets[seed % budgets.length]!;
  const ttlMode = Math.floor(seed / budgets.length) % 3; // 0: none, 1: per-set, 2: default ttl
  const large = (budget.maxEntries ?? 0) >= 30 || (budget.maxBytes ?? 0) >= 70;
  const keySpace = large ? 20 + Math.floor(random() * 40) : 3 + Math.floor(random() * 10);
  let now = 0;
  const clock = () => now;
  const events: Event[] = [];
  const opts = { ...budget, ...(ttlMode === 2 ? { ttlMs: 15 } : {}) };
  const cache = factory({ ...opts, now: clock, onEvicted: (k, v, r) => events.push([k, v, r]) });
  const model = new ModelCache(makeModel(), opts, clock);
  let next = 0;
  for (let op = 0; op < OPS; op++) {
    const key = `k${Math.floor(random() * keySpace)}`;
    const r = random();
    let desc: string;
    let got: unknown;
    let want: unknown;
    if (r < 0.3) {
      desc = `cache.get(${JSON.stringify(key)})`;
      got = cache.get(key);
      want = model.get(key);
    } else if (r < 0.36) {
      desc = `cache.peek(${JSON.stringify(key)})`;
      got = cache.peek(key);
      want = model.peek(key);
    } else if (r < 0.42) {
      desc = `cache.has(${JSON.stringify(key)})`;
      got = cache.has(key);
      want = model.has(key);
    } else if (r < 0.85) {
      const cur = model.map.get(key);
      const value = cur !== undefined && random() < 0.15 ? cur.value : next++;
      const size =
        budget.maxBytes !== undefined
          ? Math.floor(random() * 7)
          : random() < 0.8
            ? 1
            : Math.floor(random() * 4);
      const ttlMs = ttlMode === 1 && random() < 0.4 ? 1 + Math.floor(random() * 20) : undefined;
      const o: { size: number; ttlMs?: number } = { size };
      if (ttlMs !== undefined) o.ttlMs = ttlMs;
      desc = `cache.set(${JSON.stringify(key)}, ${value}, ${JSON.stringify(o)})`;
      got = cache.set(key, value, o);
      want = model.set(key, value, size, ttlMs);
    } else if (r < 0.9) {
      desc = `cache.delete(${JSON.stringify(key)})`;
      got = cache.delete(key);
      want = model.delete(key);
    } else if (r < 0.995) {
      if (ttlMode === 0) continue;
      now += 1 + Math.floor(random() * 3);
      desc = `now = ${now}`;
    } else {
      desc = "cache.clear()";
      cache.clear();
    }
    if (desc === "cache.clear()") model.clear();
    log?.push(desc);
    const where = `${name} seed ${seed} ${JSON.stringify(opts)} op ${op}: ${desc}`;
    assert.deepEqual(got, want, `result of ${where}`);
    assert.deepEqual(events, model.events, `events after ${where}`);
    events.length = 0;
    model.events.length = 0;
    assert.equal(cache.size, model.map.size, `size after ${where}`);
    assert.equal(cache.bytes, model.bytes, `bytes after ${where}`);
    assert.deepEqual([...cache.keys()], model.keys(), `keys() after ${where}`);
  }
}

for (const [name] of policies) {
  describe(`differential: ${name} against its model`, () => {
    test(`${SEEDS} seeds × ${OPS} ops`, () => {
      for (let seed = 0; seed < SEEDS; seed++) runSeed(name, seed);
    });
  });
}
