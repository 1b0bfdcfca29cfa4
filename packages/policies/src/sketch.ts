/** A counter's ceiling: 4 bits' worth, as in TinyLFU. */
const MAX_COUNT = 15;
const DEPTH = 4;
/** Odd 32-bit constants that derive the row hashes from one key hash. */
const SEEDS = [0x97cb3127, 0xb5ad4ece, 0x2c1b3c6d, 0x297a2d39] as const;

/**
 * FrequencySketch is a count-min sketch of 4-bit counters (TinyLFU, Einziger, Friedman & Manes,
 * 2017): it estimates how often each key was seen in the recent past in a few bytes per entry.
 * After `sampleSize` increments every counter is halved, so the estimates follow a changing
 * popularity and old counts fade. Counters are packed eight to a 32-bit word.
 */
export class FrequencySketch {
  #table: Uint32Array;
  #mask: number;
  #sampleSize: number;
  #additions = 0;
  /** The entry count the table is sized for. */
  #capacity: number;

  /** capacity is the expected number of distinct keys held (the cache's entry count). */
  constructor(capacity: number) {
    this.#capacity = 0;
    this.#table = new Uint32Array(0);
    this.#mask = 0;
    this.#sampleSize = 0;
    this.ensureCapacity(capacity);
  }

  /** ensureCapacity grows the table (forgetting all counts) when more keys are to be held. */
  ensureCapacity(capacity: number): void {
    if (capacity <= this.#capacity) return;
    // At least doubling, so a cache that grows one entry at a time reallocates O(log n) times.
    const n = Math.max(16, Math.min(Math.max(capacity, 2 * this.#capacity), 1 << 26));
    if (n <= this.#capacity) return;
    this.#capacity = n;
    // Four counters per row and entry keep collisions rare (Caffeine allots 16 per entry, too),
    // at half a byte each: 8 bytes per entry.
    const width = 2 ** Math.ceil(Math.log2(n)) * 4;
    this.#table = new Uint32Array((width * DEPTH) >>> 3);
    this.#mask = width - 1;
    this.#sampleSize = 10 * n;
    this.#additions = 0;
  }

  /** frequency estimates how often h (a key hash) was counted, 0 to 15. */
  frequency(h: number): number {
    let min = MAX_COUNT;
    const width = this.#mask + 1;
    const t = this.#table;
    for (let i = 0; i < DEPTH; i++) {
      const j = i * width + (mix(h ^ SEEDS[i]!) & this.#mask);
      const c = (t[j >>> 3]! >>> ((j & 7) << 2)) & MAX_COUNT;
      if (c < min) min = c;
    }
    return min;
  }

  /** increment counts h once more; every sampleSize increments, all counts are halved. */
  increment(h: number): void {
    const width = this.#mask + 1;
    const t = this.#table;
    let added = false;
    for (let i = 0; i < DEPTH; i++) {
      const j = i * width + (mix(h ^ SEEDS[i]!) & this.#mask);
      const shift = (j & 7) << 2;
      if (((t[j >>> 3]! >>> shift) & MAX_COUNT) < MAX_COUNT) {
        t[j >>> 3]! += 1 << shift;
        added = true;
      }
    }
    if (added && ++this.#additions >= this.#sampleSize) this.#reset();
  }

  /** clear forgets all counts. */
  clear(): void {
    this.#table.fill(0);
    this.#additions = 0;
  }

  /**
   * Halves every counter. Halving an odd count drops half a unit, and 4 counters move per key, so
   * a quarter of the odd counters is deducted from the sample too, as Caffeine's sketch does;
   * plain halving would overstate what the sample holds and halve again too soon.
   */
  #reset(): void {
    const t = this.#table;
    let odd = 0;
    for (let i = 0; i < t.length; i++) {
      odd += popcount(t[i]! & 0x11111111);
      t[i] = (t[i]! >>> 1) & 0x77777777;
    }
    // Never below 0: odd / 4 is at most the table's width, under the sample size.
    this.#additions = Math.max(0, this.#additions - (odd >>> 2)) >>> 1;
  }
}

/** popcount counts the set bits of a 32-bit word. */
function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** mix is a 32-bit finalizer (murmur3's fmix32): every input bit affects every output bit. */
export function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * createKeyHasher returns a function that hashes any key to 32 bits: numbers by value, strings
 * by their UTF-16 code units (FNV-1a), objects by identity (an id assigned on first sight, held
 * weakly by this hasher), anything else by its string form. Collisions only blur frequency
 * estimates; they never mix up entries.
 */
export function createKeyHasher(): (key: unknown) => number {
  const objectIds = new WeakMap<object, number>();
  let nextObjectId = 1;
  return (key) => {
    switch (typeof key) {
      case "number":
        if (Number.isSafeInteger(key)) {
          return mix((key | 0) ^ Math.imul(Math.floor(key / 4294967296) | 0, 0x9e3779b1));
        }
        return hashString(String(key));
      case "string":
        return hashString(key);
      case "object":
      case "function": {
        if (key === null) return 0;
        let id = objectIds.get(key);
        if (id === undefined) {
          id = nextObjectId++;
          objectIds.set(key, id);
        }
        return mix(id);
      }
      default:
        return hashString(String(key));
    }
  };
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix(h);
}
