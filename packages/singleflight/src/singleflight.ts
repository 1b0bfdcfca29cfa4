/** Flight is what doShared returns: the call's promise and whether the caller joined it. */
export interface Flight<T> {
  /** promise settles with the shared call's result or error. */
  promise: Promise<T>;
  /** shared is true when the caller joined a call already in flight, false when it started it. */
  shared: boolean;
}

/**
 * Singleflight collapses concurrent calls for one key into one execution: every caller that
 * arrives while a call for the key is in flight gets that call's result or error. Callers of one
 * key must expect the same result type; the key is the only thing compared.
 */
export interface Singleflight {
  /**
   * do runs fn for key unless a call for key is already in flight, in which case it returns
   * that call's promise (the same Promise object) and fn is not called. fn starts synchronously,
   * inside do. The key is free again as soon as the call settles, so results and errors are
   * never cached. do never throws: a synchronous throw from fn becomes a rejection.
   */
  do<T>(key: string, fn: () => T | PromiseLike<T>): Promise<T>;
  /** doShared is do that also tells whether the caller joined a call already in flight. */
  doShared<T>(key: string, fn: () => T | PromiseLike<T>): Flight<T>;
  /**
   * forget drops the in-flight call for key, so the next do starts a new one; callers already
   * waiting still get the old call's result. Returns whether a call was in flight.
   */
  forget(key: string): boolean;
  /** has tells whether a call for key is in flight. */
  has(key: string): boolean;
  /** size is the number of keys with a call in flight. */
  readonly size: number;
}

/** createSingleflight returns an empty Singleflight. */
export function createSingleflight(): Singleflight {
  const calls = new Map<string, Promise<unknown>>(); // key -> the call in flight

  function doShared<T>(key: string, fn: () => T | PromiseLike<T>): Flight<T> {
    const inflight = calls.get(key);
    if (inflight !== undefined) return { promise: inflight as Promise<T>, shared: true };
    // Like Promise.try: a synchronous throw becomes a rejection, so the key is freed below too.
    // fn runs before the entry exists, so a do(key) from inside fn's synchronous part starts
    // its own call instead of waiting on the one that is calling it (which could never settle).
    const promise = new Promise<T>((resolve) => resolve(fn()));
    calls.set(key, promise);
    const settle = () => {
      // forget() may have let a newer call take the key; only drop our own entry.
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
