import type { Singleflight } from "@geecache/singleflight";
import { createSingleflight } from "@geecache/singleflight";
import { GeeCacheError } from "./errors.ts";

/**
 * raceSignal settles like promise, or rejects as soon as signal aborts (with the abort reason
 * as a GeeCacheError), whichever comes first. The promise keeps running; only this wait ends.
 */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    // Keep the abandoned promise from being reported as an unhandled rejection.
    promise.catch(() => {});
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/** abortError turns a signal's abort reason into a CANCELED or DEADLINE_EXCEEDED GeeCacheError. */
export function abortError(signal: AbortSignal): GeeCacheError {
  const reason: unknown = signal.reason;
  if (reason instanceof GeeCacheError) return reason;
  const err = GeeCacheError.from(reason, "CANCELED");
  return err.code === "DEADLINE_EXCEEDED"
    ? err
    : new GeeCacheError("CANCELED", err.message, { cause: reason });
}

// One in-flight load: its controller and who still waits for it.
interface Flight {
  readonly controller: AbortController;
  // Waiters that can still abort; the load aborts when the last one does.
  waiters: number;
  // A waiter without a signal never gives up, so the load runs to completion (or timeout).
  pinned: boolean;
}

/**
 * SharedLoads is a singleflight whose shared work gets its own AbortSignal: it aborts when every
 * caller waiting for it aborted, or when timeoutMs passed. A caller that aborts stops waiting at
 * once without cancelling the work for the others.
 */
export interface SharedLoads {
  /**
   * run joins the load of key in flight, or starts work as a new one (calling onStart first).
   * The returned promise settles with the load, or rejects when signal aborts.
   */
  run<T>(
    key: string,
    signal: AbortSignal | undefined,
    work: (signal: AbortSignal) => Promise<T>,
    onStart?: () => void,
  ): Promise<T>;
}

/** SharedLoadsOptions configure createSharedLoads. */
export interface SharedLoadsOptions {
  /** timeoutMs bounds each shared load; none by default. */
  timeoutMs?: number;
  /** timeoutMessage names a load in its DEADLINE_EXCEEDED error. */
  timeoutMessage?: (key: string) => string;
  /**
   * onTimeout hears of each load that ran out of timeoutMs, once, when it does: a load whose work
   * ignores its signal never settles to report it.
   */
  onTimeout?: (key: string) => void;
}

/** createSharedLoads returns a SharedLoads with no load in flight. */
export function createSharedLoads(options: SharedLoadsOptions = {}): SharedLoads {
  const {
    timeoutMs,
    timeoutMessage = (key: string) => `loading ${key} timed out`,
    onTimeout,
  } = options;
  const sf: Singleflight = createSingleflight();
  const flights = new Map<string, Flight>();

  function start<T>(
    key: string,
    work: (signal: AbortSignal) => Promise<T>,
    onStart: (() => void) | undefined,
  ): Promise<T> {
    onStart?.();
    const controller = new AbortController();
    const flight: Flight = { controller, waiters: 0, pinned: false };
    flights.set(key, flight);
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        controller.abort(new GeeCacheError("DEADLINE_EXCEEDED", timeoutMessage(key)));
        onTimeout?.(key);
      }, timeoutMs);
    }
    let p: Promise<T>;
    try {
      p = work(controller.signal);
    } catch (e) {
      p = Promise.reject(e);
    }
    // Racing the signal means a getter that ignores it still cannot hang its callers.
    return raceSignal(p, controller.signal).finally(() => {
      clearTimeout(timer);
      if (flights.get(key) === flight) flights.delete(key);
    });
  }

  return {
    run(key, signal, work, onStart) {
      const { promise } = sf.doShared(key, () => start(key, work, onStart));
      // Singleflight runs the leader's function synchronously, so the flight is registered by
      // now; if it already settled there is nothing left to abort.
      const flight = flights.get(key);
      if (flight !== undefined) {
        if (signal === undefined) flight.pinned = true;
        else if (!signal.aborted) {
          flight.waiters++;
          const leave = () => {
            flight.waiters--;
            if (flight.waiters === 0 && !flight.pinned) {
              // Nobody waits any more: later callers must start afresh, not join a dying load.
              if (flights.get(key) === flight) {
                flights.delete(key);
                sf.forget(key);
              }
              flight.controller.abort(signal.reason);
            }
          };
          signal.addEventListener("abort", leave, { once: true });
          promise.then(
            () => signal.removeEventListener("abort", leave),
            () => signal.removeEventListener("abort", leave),
          );
        }
      }
      return raceSignal(promise, signal);
    },
  };
}
