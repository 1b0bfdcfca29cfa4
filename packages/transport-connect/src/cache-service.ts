import { create, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { GeeCacheError, type Registry } from "@geecache/core";
import { bytesOf } from "@geecache/core/internal";
import { CacheService, GetResponseSchema, StatsResponseSchema } from "@geecache/proto";
import { toConnectError } from "./error-codes.ts";

/** CacheServiceOptions configure createCacheService. */
export interface CacheServiceOptions {
  /**
   * The id reported by Stats, by convention the node's advertised address; a function is asked
   * on each call (the port may be known only after listen). Empty by default.
   */
  nodeId?: string | (() => string);
}

/**
 * createCacheService returns Connect routes that serve geecache.v1.CacheService for a core
 * Registry: pass it to connectNodeAdapter({ routes }) or to @connectrpc/connect-fastify.
 * Get answers with `group.get(key, { fromPeer: request.forwarded })`, so a forwarded request is
 * answered from the owner's cache or getter and never forwarded again. Errors leave through
 * the one mapping in error-codes.ts.
 */
export function createCacheService(
  registry: Registry,
  options: CacheServiceOptions = {},
): (router: ConnectRouter) => void {
  const { nodeId = "" } = options;
  return (router) => {
    router.service(CacheService, {
      async get(request, context) {
        try {
          const group = registry.get(request.group);
          if (group === undefined) {
            throw new GeeCacheError("UNKNOWN_GROUP", `unknown group "${request.group}"`);
          }
          const view = await group.get(request.key, {
            signal: context.signal,
            fromPeer: request.forwarded,
            cacheOnly: request.cacheOnly,
          });
          const expiresAtMs = view.expiresAtMs;
          return create(GetResponseSchema, {
            // No copy: the message is serialized before anything could write to it.
            value: bytesOf(view),
            expiresAtMs: expiresAtMs === undefined ? undefined : BigInt(Math.trunc(expiresAtMs)),
          });
        } catch (reason) {
          // When the call's own signal ended it (deadline, client gone, server shutdown), its
          // reason says why better than the CANCELED that core reports for any abort.
          const { signal } = context;
          if (signal.aborted && signal.reason instanceof ConnectError) throw signal.reason;
          throw toConnectError(reason);
        }
      },
      stats() {
        try {
          const groups: Record<string, JsonObject> = {};
          for (const [name, stats] of Object.entries(registry.stats())) {
            groups[name] = toJsonObject(stats);
          }
          return create(StatsResponseSchema, {
            nodeId: typeof nodeId === "function" ? nodeId() : nodeId,
            groups,
          });
        } catch (reason) {
          throw toConnectError(reason);
        }
      },
    });
  };
}

// Stats travel as google.protobuf.Struct: plain JSON, so bigints become numbers and anything
// that JSON cannot hold is dropped.
function toJsonObject(value: unknown): JsonObject {
  const json = toJsonValue(value);
  return json !== null && typeof json === "object" && !Array.isArray(json) ? json : {};
}

function toJsonValue(value: unknown): JsonValue {
  switch (typeof value) {
    case "number":
      return Number.isFinite(value) ? value : null;
    case "bigint":
      return Number(value);
    case "string":
    case "boolean":
      return value;
    case "object": {
      if (value === null) return null;
      if (Array.isArray(value)) return value.map(toJsonValue);
      const out: JsonObject = {};
      for (const [k, v] of Object.entries(value)) {
        if (v !== undefined && typeof v !== "function") out[k] = toJsonValue(v);
      }
      return out;
    }
    default:
      return null;
  }
}
