/**
 * Singleflight collapses concurrent calls for one key into one execution: every caller that
 * arrives while a call for the key is in flight gets that call's result or error.
 */
export interface Singleflight {
  /**
   * do runs fn for key unless a call for key is already in flight, in which case it returns
   * that call's promise. The key is free again as soon as the call settles, so results and
   * errors are never cached.
   */
  do<T>(key: string, fn: () => T | PromiseLike<T>): Promise<T>;
  /**
   * doShared is do that also tells whether the caller joined a call already in flight
   * (`shared: true`) or started it.
   */
  doShared<T>(key: string, fn: () => T | PromiseLike<T>): { promise: Promise<T>; shared: boolean };
  /**
   * forget drops the in-flight call for key, so the next do starts a new one; callers already
   * waiting still get the old call's result.
   */
  forget(key: string): boolean;
  /** has tells whether a call for key is in flight. */
  has(key: string): boolean;
  /** size is the number of keys with a call in flight. */
  readonly size: number;
}

/** createSingleflight returns an empty Singleflight. */
export function createSingleflight(): Singleflight {
  const calls = new Map<string, Promise<unknown>>();

  function doShared<T>(
    key: string,
    fn: () => T | PromiseLike<T>,
  ): { promise: Promise<T>; shared: boolean } {
    const inflight = calls.get(key);
    if (inflight !== undefined) return { promise: inflight as Promise<T>, shared: true };
    // Promise.try-like: a synchronous throw becomes a rejection, so the key is freed below too.
    const promise = new Promise<T>((resolve) => resolve(fn()));
    calls.set(key, promise);
    const settle = () => {
      // forget() may have replaced the entry with a newer call; only drop our own.
      if (calls.get(key) === promise) calls.delete(key);
    };
    promise.then(settle, settle);
    return { promise, shared: false };
  }

  return {
    do: (key, fn) => doShared(key, fn).promise,
    doShared,
    forget: (key) => calls.delete(key),
    has: (key) => calls.has(key),
    get size() {
      return calls.size;
    },
  };
}
