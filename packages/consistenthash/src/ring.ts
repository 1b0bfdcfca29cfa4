import { fmix32, fnv1a32, fnvStart, fnvUpdate } from "./hash.ts";

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
  /** add puts a node on the ring, or updates its weight (> 0, default 1). */
  add(id: string, weight?: number): void;
  /** remove takes a node off the ring; returns whether it was there. */
  remove(id: string): boolean;
  /**
   * set replaces the members with nodes (ids or RingNodes). Members that stay keep their
   * points, so handing over the whole membership on every change costs only the difference.
   */
  set(nodes: Iterable<string | RingNode>): void;
  /** get returns the owner of key, or undefined when the ring is empty. O(log points). */
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
// New points are packed as hash * 2^21 + i into one double (exact below 2^53), so one typed-array
// sort orders them by hash and then by i, the index of their node in id order.
const INDEX_SPAN = 2 ** 21;
const MAX_POINTS_PER_NODE = 2 ** 20;

interface Member {
  weight: number;
  slot: number; // index into slots; stable while the member stays with the same weight
  points: Uint32Array | undefined; // hashes of its virtual nodes, computed once
}

function checkNode(id: unknown, weight: number): asserts id is string {
  if (typeof id !== "string" || id === "") {
    throw new TypeError("node id must be a non-empty string");
  }
  if (typeof weight !== "number" || !Number.isFinite(weight) || weight <= 0) {
    throw new RangeError(`weight of node ${id} must be a finite number > 0, got ${weight}`);
  }
}

/** createHashRing returns an empty ring. */
export function createHashRing(options: HashRingOptions = {}): HashRing {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("createHashRing: options must be an object");
  }
  const replicas = options.replicas ?? DEFAULT_REPLICAS;
  if (typeof replicas !== "number") {
    throw new TypeError(`replicas must be a number, got ${typeof replicas}`);
  }
  if (!Number.isInteger(replicas) || replicas < 1) {
    throw new RangeError(`replicas must be an integer >= 1, got ${replicas}`);
  }
  const custom = options.hash;
  if (custom !== undefined && typeof custom !== "function") {
    throw new TypeError("hash must be a function");
  }
  // A custom hash's result is checked, not coerced: NaN would put every key on one node.
  const hash =
    custom === undefined
      ? fnv1a32
      : (s: string): number => {
          const h = custom(s);
          if (!Number.isInteger(h) || h < -(2 ** 31) || h > 0xffff_ffff) {
            throw new TypeError(
              `hash must return a 32-bit integer, got ${h} for ${JSON.stringify(s)}`,
            );
          }
          return h;
        };

  const members = new Map<string, Member>();
  const slots: (string | undefined)[] = []; // slot -> id of the member whose points carry it
  const freeSlots: number[] = [];
  // Changes not yet applied to the ring; applied together on the next lookup.
  const added = new Set<string>();
  const removed: number[] = []; // slots whose points must leave the ring
  // The ring: points [0, count) of these buffers, sorted by hash, equal hashes by node id.
  let hashes = new Uint32Array(0);
  let owners = new Uint32Array(0); // slot of each point
  let count = 0;

  // validate also bounds the points one node may take, so a stray weight cannot allocate gigabytes.
  function validate(id: unknown, weight: number): asserts id is string {
    checkNode(id, weight);
    if (replicas * weight > MAX_POINTS_PER_NODE) {
      throw new RangeError(
        `node ${id}: replicas × weight must be at most ${MAX_POINTS_PER_NODE}, got ${replicas * weight}`,
      );
    }
  }

  function allocSlot(id: string): number {
    const s = freeSlots.pop() ?? slots.length;
    slots[s] = id;
    return s;
  }

  function pointsOf(id: string, m: Member): Uint32Array {
    if (m.points !== undefined) return m.points;
    const n = Math.max(1, Math.round(replicas * m.weight));
    const pts = new Uint32Array(n);
    if (hash === fnv1a32) {
      // Same values as fnv1a32(`${id}#${r}`), with the shared "id#" prefix hashed once.
      const prefix = fnvUpdate(fnvStart, `${id}#`);
      for (let r = 0; r < n; r++) pts[r] = fmix32(fnvUpdate(prefix, String(r)));
    } else {
      for (let r = 0; r < n; r++) pts[r] = hash(`${id}#${r}`) >>> 0;
    }
    m.points = pts;
    return pts;
  }

  function join(id: string, weight: number): void {
    members.set(id, { weight, slot: allocSlot(id), points: undefined });
    added.add(id);
  }

  function leave(id: string, m: Member): void {
    members.delete(id);
    if (added.delete(id)) {
      // Its points never reached the ring.
      slots[m.slot] = undefined;
      freeSlots.push(m.slot);
    } else {
      removed.push(m.slot);
    }
  }

  // apply brings the ring up to date in place: points of removed nodes are filtered out, new
  // nodes' points sorted among themselves and merged in from the back, copying the old points
  // between two new ones as one block. A join of one node among n costs ~160 binary searches and
  // block moves, and no allocation of the ring, so no garbage and no GC pause. The result is the
  // same sorted sequence a from-scratch build gives, whatever the history.
  function apply(): void {
    if (removed.length > 0) {
      const gone = new Uint8Array(slots.length);
      for (const s of removed) gone[s] = 1;
      let k = 0;
      for (let j = 0; j < count; j++) {
        if (gone[owners[j]!] === 0) {
          hashes[k] = hashes[j]!;
          owners[k++] = owners[j]!;
        }
      }
      count = k;
      for (const s of removed) {
        slots[s] = undefined;
        freeSlots.push(s);
      }
      removed.length = 0;
    }
    if (added.size > 0) {
      const ids = [...added].sort();
      if (ids.length >= INDEX_SPAN) throw new RangeError("too many nodes added at once");
      let total = 0;
      // Hash before touching the ring, so a throwing custom hash leaves it as it was, the
      // newcomers still pending.
      const pts = ids.map((id) => {
        const p = pointsOf(id, members.get(id)!);
        total += p.length;
        return p;
      });
      added.clear();
      const packed = new Float64Array(total);
      let p = 0;
      for (let i = 0; i < ids.length; i++) {
        for (const v of pts[i]!) packed[p++] = v * INDEX_SPAN + i;
      }
      packed.sort();
      const slotOf = ids.map((id) => members.get(id)!.slot);
      reserve(count + total);
      const h = hashes;
      const o = owners;
      let end = count; // old points [0, end) not yet moved
      let w = count + total; // next write goes to w - 1
      for (let b = total - 1; b >= 0; b--) {
        const v = packed[b]!;
        const i = v % INDEX_SPAN;
        const bh = (v - i) / INDEX_SPAN;
        // lo = how many old points sort before this one (equal hashes go by node id).
        let lo = 0;
        let hi = end;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (h[mid]! < bh || (h[mid] === bh && slots[o[mid]!]! < ids[i]!)) lo = mid + 1;
          else hi = mid;
        }
        if (lo < end) {
          h.copyWithin(w - (end - lo), lo, end);
          o.copyWithin(w - (end - lo), lo, end);
          w -= end - lo;
          end = lo;
        }
        h[--w] = bh;
        o[w] = slotOf[i]!;
      }
      count += total;
    }
    // Give memory back after the ring shrank a lot.
    if (hashes.length > 64 && count < hashes.length >>> 2) resize(count * 2);
  }

  function reserve(n: number): void {
    // Headroom, so the next few joins merge in place instead of allocating.
    if (n > hashes.length) resize(Math.max(n + (n >>> 3), Math.ceil(hashes.length * 1.25)));
  }

  function resize(capacity: number): void {
    const h = new Uint32Array(capacity);
    const o = new Uint32Array(capacity);
    h.set(hashes.subarray(0, count));
    o.set(owners.subarray(0, count));
    hashes = h;
    owners = o;
  }

  // search returns the first point at or after hash x, wrapping to 0.
  function search(x: number): number {
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (hashes[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo === count ? 0 : lo;
  }

  function stale(): boolean {
    return added.size > 0 || removed.length > 0;
  }

  return {
    add(id, weight = 1) {
      validate(id, weight);
      const m = members.get(id);
      if (m !== undefined) {
        if (m.weight === weight) return;
        leave(id, m);
      }
      join(id, weight);
    },
    remove(id) {
      const m = members.get(id);
      if (m === undefined) return false;
      leave(id, m);
      return true;
    },
    set(nodes) {
      // A string is iterable too: set("10.0.0.1:8001") would add a node per character.
      if (typeof nodes === "string") throw new TypeError("set takes a list of nodes, not a string");
      // Validate everything before changing anything.
      const next = new Map<string, number>();
      for (const n of nodes) {
        const id = typeof n === "string" ? n : n?.id;
        const weight = typeof n === "string" ? 1 : (n?.weight ?? 1);
        validate(id, weight);
        next.set(id, weight);
      }
      for (const [id, m] of [...members]) {
        if (next.get(id) !== m.weight) leave(id, m);
      }
      for (const [id, weight] of next) {
        if (!members.has(id)) join(id, weight);
      }
    },
    get(key) {
      if (typeof key !== "string") throw new TypeError(`key must be a string, got ${typeof key}`);
      if (stale()) apply();
      if (count === 0) return undefined;
      return slots[owners[search(hash(key) >>> 0)]!];
    },
    getN(key, n) {
      if (typeof key !== "string") throw new TypeError(`key must be a string, got ${typeof key}`);
      if (!Number.isInteger(n) || n < 0) {
        throw new RangeError(`n must be an integer >= 0, got ${n}`);
      }
      if (stale()) apply();
      const want = Math.min(n, members.size);
      const out: string[] = [];
      if (want === 0) return out;
      const seen = new Set<number>();
      let j = search(hash(key) >>> 0);
      for (let steps = 0; steps < count && out.length < want; steps++) {
        const o = owners[j]!;
        if (!seen.has(o)) {
          seen.add(o);
          out.push(slots[o]!);
        }
        j = j + 1 === count ? 0 : j + 1;
      }
      return out;
    },
    has: (id) => members.has(id),
    nodes: () => [...members.keys()].sort(),
    weightOf: (id) => members.get(id)?.weight,
    get size() {
      return members.size;
    },
  };
}
