import { create } from "@bufbuild/protobuf";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  Health,
  type HealthCheckRequest,
  type HealthCheckResponse,
  HealthCheckResponseSchema,
  HealthListResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "@geecache/proto/health";

/**
 * HealthState is the serving status behind grpc.health.v1.Health. The server reports SERVING
 * for the overall server ("") and for each named service until it starts draining.
 */
export interface HealthState {
  /** serving reports whether the server accepts new calls. */
  readonly serving: boolean;
  /** setServing flips every known service between SERVING and NOT_SERVING and wakes watchers. */
  setServing(serving: boolean): void;
  /**
   * endWatches ends every open Watch stream after it has sent the current status, so a
   * draining server is not held open by health watchers. Later Watch calls end at once too.
   */
  endWatches(): void;
  /** routes registers the Health service on a Connect router. */
  routes(router: ConnectRouter): void;
}

/** createHealthState creates the health state of a server that serves the given services. */
export function createHealthState(services: readonly string[]): HealthState {
  const known = new Set(["", ...services]);
  let serving = true;
  let ended = false;
  const watchers = new Set<() => void>();

  const statusOf = (service: string): ServingStatus => {
    if (!known.has(service)) return ServingStatus.SERVICE_UNKNOWN;
    return serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  };
  const response = (status: ServingStatus): HealthCheckResponse =>
    create(HealthCheckResponseSchema, { status });

  async function* watch(
    request: HealthCheckRequest,
    context: HandlerContext,
  ): AsyncGenerator<HealthCheckResponse> {
    let last = statusOf(request.service);
    yield response(last);
    while (!context.signal.aborted) {
      // Re-check before waiting: the status may have changed while the last message was sent.
      const now = statusOf(request.service);
      if (now !== last) {
        last = now;
        yield response(now);
        continue;
      }
      if (ended) return;
      await new Promise<void>((resolve) => {
        const wake = () => {
          watchers.delete(wake);
          context.signal.removeEventListener("abort", wake);
          resolve();
        };
        watchers.add(wake);
        context.signal.addEventListener("abort", wake);
      });
    }
  }

  return {
    get serving() {
      return serving;
    },
    setServing(value) {
      if (serving === value) return;
      serving = value;
      for (const wake of [...watchers]) wake();
    },
    endWatches() {
      ended = true;
      for (const wake of [...watchers]) wake();
    },
    routes(router) {
      router.service(Health, {
        check(request) {
          if (!known.has(request.service)) {
            throw new ConnectError(`unknown service "${request.service}"`, Code.NotFound);
          }
          return response(statusOf(request.service));
        },
        list() {
          const statuses: Record<string, HealthCheckResponse> = {};
          for (const service of known) statuses[service] = response(statusOf(service));
          return create(HealthListResponseSchema, { statuses });
        },
        watch,
      });
    },
  };
}
