import type { Trace } from "./traces.ts";

/**
 * nextAccesses gives, for each request, the index of the next request for the same key
 * (keys.length if none): Belady's look-ahead, computed in one backward pass.
 */
export function nextAccesses(keys: Int32Array, unique: number): Int32Array {
  const n = keys.length;
  const next = new Int32Array(n);
  const seen = new Int32Array(unique).fill(n);
  for (let i = n - 1; i >= 0; i--) {
    const k = keys[i]!;
    next[i] = seen[k]!;
    seen[k] = i;
  }
  return next;
}

/**
 * optHits replays the trace through Belady's optimal policy for a budget of capacity (entries,
 * or bytes when the trace has sizes): on a miss it evicts the cached keys requested furthest in
 * the future, and does not admit the requested key when that key is itself the one requested
 * furthest (what Caffeine calls Clairvoyant). With unit sizes this is optimal; with sizes it is
 * the usual Belady-size heuristic, not a proven optimum.
 */
export function optHits(trace: Trace, next: Int32Array, capacity: number): number {
  const { keys, sizes, unique } = trace;
  const n = keys.length;
  const cached = new Uint8Array(unique);
  const curNext = new Int32Array(unique);
  const size = new Float64Array(unique);
  // A max-heap of (next access, key) with lazy deletion: an item is live while its key is cached
  // with that next access.
  let heapN = new Int32Array(1024);
  let heapK = new Int32Array(1024);
  let len = 0;
  const push = (nx: number, k: number): void => {
    if (len === heapN.length) {
      const a = new Int32Array(len * 2);
      a.set(heapN);
      heapN = a;
      const b = new Int32Array(len * 2);
      b.set(heapK);
      heapK = b;
    }
    let i = len++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heapN[p]! >= nx) break;
      heapN[i] = heapN[p]!;
      heapK[i] = heapK[p]!;
      i = p;
    }
    heapN[i] = nx;
    heapK[i] = k;
  };
  const pop = (): void => {
    const nx = heapN[--len]!;
    const k = heapK[len]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= len) break;
      if (c + 1 < len && heapN[c + 1]! > heapN[c]!) c++;
      if (heapN[c]! <= nx) break;
      heapN[i] = heapN[c]!;
      heapK[i] = heapK[c]!;
      i = c;
    }
    heapN[i] = nx;
    heapK[i] = k;
  };
  // Drops stale tops so heap[0] is live.
  const top = (): boolean => {
    while (len > 0) {
      const k = heapK[0]!;
      if (cached[k] === 1 && curNext[k] === heapN[0]) return true;
      pop();
    }
    return false;
  };

  let used = 0;
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    const nx = next[i]!;
    const s = sizes === undefined ? 1 : sizes[i]!;
    if (cached[k] === 1 && size[k] === s) {
      hits++;
      curNext[k] = nx;
      push(nx, k);
      continue;
    }
    if (cached[k] === 1) {
      // The object changed size: a miss; it leaves and is considered afresh.
      cached[k] = 0;
      used -= size[k]!;
    }
    if (s > capacity || nx === n) continue;
    let admit = true;
    while (used + s > capacity) {
      if (!top()) break;
      if (heapN[0]! <= nx) {
        admit = false;
        break;
      }
      const v = heapK[0]!;
      pop();
      cached[v] = 0;
      used -= size[v]!;
    }
    if (!admit) continue;
    cached[k] = 1;
    curNext[k] = nx;
    size[k] = s;
    used += s;
    push(nx, k);
  }
  return hits;
}
