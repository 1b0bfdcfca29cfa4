// Serving a node.

export { type CacheServiceOptions, createCacheService } from "./cache-service.ts";
// For other transports and tools: the one mapping between GeeCache and Connect error codes.
export {
  connectCodeOf,
  ERROR_CODE_HEADER,
  fromConnectError,
  toConnectError,
} from "./error-codes.ts";
export { createHealthState, type HealthState } from "./health.ts";
// Calling nodes.
export {
  createPeerClient,
  type NodeStats,
  type PeerCallOptions,
  type PeerClient,
  type PeerClientOptions,
} from "./peer-client.ts";
export {
  type ConnectPeerPicker,
  type ConnectPeerPickerOptions,
  createConnectPeerPicker,
} from "./peer-picker.ts";
export {
  type CacheServer,
  type CacheServerOptions,
  type CloseOptions,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CONCURRENT_STREAMS,
  DEFAULT_MAX_TIMEOUT_MS,
  type HttpRoutes,
  startCacheServer,
} from "./server.ts";
