import { fnv1a32 } from "./hash.ts";

/** HashFunction maps a string to an unsigned 32-bit integer. */
export type HashFunction = (s: string) => number;

/** RingNode is a member of the ring with an optional weight (1 by default). */
export interface RingNode {
  id: string;
  /** Relative capacity: a node of weight 2 gets twice the virtual nodes of weight 1. */
  weight?: number;
}

/** HashRingOptions configure createHashRing. */
export interface HashRingOptions {
  /** Virtual nodes per unit of weight. Default 160. */
  replicas?: number;
  /** Hash for keys and virtual nodes; must return an unsigned 32-bit integer. Default fnv1a32. */
  hash?: HashFunction;
}

/**
 * HashRing is a consistent-hash ring with virtual nodes. The owner of a key depends only on the
 * set of members and their weights, never on the order they were added or removed in, so every
 * process with the same members agrees on every owner.
 */
export interface HashRing {
  /** add puts a node on the ring, or updates its weight. */
  add(id: string, weight?: number): void;
  /** remove takes a node off the ring; returns whether it was there. */
  remove(id: string): boolean;
  /** set replaces the members with nodes (ids or RingNodes). */
  set(nodes: Iterable<string | RingNode>): void;
  /** get returns the owner of key, or undefined when the ring is empty. O(log n). */
  get(key: string): string | undefined;
  /** getN returns up to n distinct nodes for key, the owner first, then its successors. */
  getN(key: string, n: number): string[];
  /** has tells whether id is a member. */
  has(id: string): boolean;
  /** nodes lists the members, sorted by id. */
  nodes(): string[];
  /** weightOf returns a member's weight, or undefined. */
  weightOf(id: string): number | undefined;
  /** size is the number of members. */
  readonly size: number;
}

const DEFAULT_REPLICAS = 160;
// Points pack (hash, member index) into one double so one typed-array sort orders both: the
// member index breaks ties between equal hashes by id, deterministically.
const INDEX_BITS = 2 ** 20;

function checkWeight(id: string, weight: number): void {
  if (typeof id !== "string" || id === "")
    throw new TypeError("node id must be a non-empty string");
  if (!Number.isFinite(weight) || weight <= 0) {
    throw new RangeError(`weight of node ${id} must be a finite number > 0, got ${weight}`);
  }
}

/** createHashRing returns an empty ring. */
export function createHashRing(options: HashRingOptions = {}): HashRing {
  const replicas = options.replicas ?? DEFAULT_REPLICAS;
  if (!Number.isInteger(replicas) || replicas < 1) {
    throw new RangeError(`replicas must be an integer >= 1, got ${replicas}`);
  }
  const hash = options.hash ?? fnv1a32;
  const members = new Map<string, number>();
  let dirty = false;
  let ids: string[] = [];
  let hashes = new Uint32Array(0);
  let owners = new Uint32Array(0);

  // Rebuilt lazily on the first lookup after a change, so a burst of adds costs one sort.
  function rebuild(): void {
    dirty = false;
    ids = [...members.keys()].sort();
    if (ids.length >= INDEX_BITS) throw new RangeError("too many nodes");
    let total = 0;
    const counts = ids.map((id) => {
      const n = Math.max(1, Math.round(replicas * members.get(id)!));
      total += n;
      return n;
    });
    const packed = new Float64Array(total);
    let p = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      for (let r = 0; r < counts[i]!; r++)
        packed[p++] = (hash(`${id}#${r}`) >>> 0) * INDEX_BITS + i;
    }
    packed.sort();
    hashes = new Uint32Array(total);
    owners = new Uint32Array(total);
    for (let j = 0; j < total; j++) {
      const v = packed[j]!;
      const idx = v % INDEX_BITS;
      owners[j] = idx;
      hashes[j] = (v - idx) / INDEX_BITS;
    }
  }

  // search returns the first point at or after h, wrapping to 0.
  function search(h: number): number {
    let lo = 0;
    let hi = hashes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (hashes[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return lo === hashes.length ? 0 : lo;
  }

  const ring: HashRing = {
    add(id, weight = 1) {
      checkWeight(id, weight);
      if (members.get(id) === weight) return;
      members.set(id, weight);
      dirty = true;
    },
    remove(id) {
      const had = members.delete(id);
      if (had) dirty = true;
      return had;
    },
    set(nodes) {
      const next = new Map<string, number>();
      for (const n of nodes) {
        const id = typeof n === "string" ? n : n.id;
        const weight = typeof n === "string" ? 1 : (n.weight ?? 1);
        checkWeight(id, weight);
        next.set(id, weight);
      }
      members.clear();
      for (const [id, w] of next) members.set(id, w);
      dirty = true;
    },
    get(key) {
      if (dirty) rebuild();
      if (hashes.length === 0) return undefined;
      return ids[owners[search(hash(key) >>> 0)]!];
    },
    getN(key, n) {
      if (dirty) rebuild();
      const want = Math.min(n, ids.length);
      const out: string[] = [];
      if (want <= 0) return out;
      const seen = new Set<number>();
      let j = search(hash(key) >>> 0);
      for (let steps = 0; steps < hashes.length && out.length < want; steps++) {
        const o = owners[j]!;
        if (!seen.has(o)) {
          seen.add(o);
          out.push(ids[o]!);
        }
        j = j + 1 === hashes.length ? 0 : j + 1;
      }
      return out;
    },
    has: (id) => members.has(id),
    nodes: () => [...members.keys()].sort(),
    weightOf: (id) => members.get(id),
    get size() {
      return members.size;
    },
  };
  return ring;
}
