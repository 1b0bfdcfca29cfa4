// Helpers for this package's unit tests (excluded from the build with the tests).
import { GeeCacheError } from "./errors.ts";
import type { PeerGetRequest, PeerGetResponse, PeerGetter } from "./peers.ts";

/** Deferred is a promise with its resolve and reject, for gating async work in tests. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
}

/** deferred returns a new pending Deferred. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** tick lets pending promise callbacks run (a macrotask turn). */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** FakePeer is an in-process PeerGetter that records its calls. */
export interface FakePeer extends PeerGetter {
  calls: PeerGetRequest[];
  closed: number;
}

/** fakePeer answers with handler; by default it fails with UNAVAILABLE. */
export function fakePeer(
  id: string,
  handler: (req: PeerGetRequest, signal?: AbortSignal) => Promise<PeerGetResponse> = () =>
    Promise.reject(new GeeCacheError("UNAVAILABLE", `${id} is down`)),
): FakePeer {
  const peer: FakePeer = {
    id,
    calls: [],
    closed: 0,
    get(req, options) {
      peer.calls.push(req);
      return handler(req, options?.signal);
    },
    async close() {
      peer.closed++;
    },
  };
  return peer;
}
