/** Backoff yields growing retry delays: initial, doubling up to max, with ±20% jitter. */
export interface Backoff {
  next(): number;
  reset(): void;
}

/** createBackoff returns a Backoff; random is injectable so tests can make it exact. */
export function createBackoff(
  initialMs: number,
  maxMs: number,
  random: () => number = Math.random,
): Backoff {
  let current = initialMs;
  return {
    next() {
      const base = current;
      current = Math.min(maxMs, current * 2);
      // Jitter spreads the retries of many nodes after a shared outage (an etcd restart).
      return Math.round(base * (0.8 + 0.4 * random()));
    },
    reset() {
      current = initialMs;
    },
  };
}
