/**
 * Grace tracks the calls to nodes still open during shutdown: each runs with a signal of its own
 * that follows the request's, and abortAll ends those still open when the shutdown grace runs
 * out, so their requests are answered rather than cut off with the process.
 *
 * Not AbortSignal.any([request, processWide]): Node keeps a composite signal that has listeners
 * alive for as long as any of its sources may still abort, so one process-wide source kept every
 * request's signals alive, about 450 bytes a request, for good.
 */
export interface Grace {
  /** run calls call with a signal that aborts with the request's signal or with abortAll. */
  run<T>(signal: AbortSignal | undefined, call: (signal: AbortSignal) => Promise<T>): Promise<T>;
  /**
   * abortAll aborts every call still open and sets over; later runs still start (the caller
   * refuses them).
   */
  abortAll(): void;
  /** over tells whether abortAll was called. */
  readonly over: boolean;
  /** open is the number of calls still running. */
  readonly open: number;
}

export function createGrace(): Grace {
  const open = new Set<AbortController>();
  let over = false;
  return {
    async run(signal, call) {
      const controller = new AbortController();
      const follow = () => controller.abort(signal?.reason);
      if (signal?.aborted) follow();
      else signal?.addEventListener("abort", follow, { once: true });
      open.add(controller);
      try {
        return await call(controller.signal);
      } finally {
        open.delete(controller);
        signal?.removeEventListener("abort", follow);
      }
    },
    abortAll() {
      over = true;
      for (const controller of open) controller.abort();
    },
    get over() {
      return over;
    },
    get open() {
      return open.size;
    },
  };
}
