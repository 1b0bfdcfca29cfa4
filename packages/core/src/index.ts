// The eviction-policy seam GroupOptions.cacheFactory takes, re-exported so apps need not depend
// on @geecache/lru to name it.
export type { Cache, CacheFactory, CacheOptions, EvictionReason } from "@geecache/lru";
export { ByteView, type ByteViewOptions } from "./byte-view.ts";
export { type ErrorCode, GeeCacheError, isDeadline } from "./errors.ts";
export {
  type Getter,
  type GetterContext,
  type GetterFunc,
  type GetterResult,
  type GetterValue,
  getterFunc,
} from "./getter.ts";
export {
  DEFAULT_HOT_CACHE_FRACTION,
  DEFAULT_HOT_CACHE_SAMPLE_RATE,
  DEFAULT_LOAD_TIMEOUT_MS,
  DEFAULT_MAX_KEY_BYTES,
  DEFAULT_NEGATIVE_MAX_ENTRIES,
  DEFAULT_NEGATIVE_TTL_MS,
  DEFAULT_PEER_TIMEOUT_MS,
  type GetOptions,
  type Group,
  type GroupOptions,
} from "./group.ts";
export type { Logger } from "./logger.ts";
export {
  type Member,
  NoPeers,
  type PeerGetRequest,
  type PeerGetResponse,
  type PeerGetter,
  type PeerPicker,
} from "./peers.ts";
export { createRegistry, type Registry, type RegistryOptions } from "./registry.ts";
export {
  createRingPeerPicker,
  DEFAULT_HANDOFF_WINDOW_MS,
  type RingPeerPicker,
  type RingPeerPickerOptions,
} from "./ring-peer-picker.ts";
export {
  createSharedLoads,
  type SharedLoads,
  type SharedLoadsOptions,
} from "./shared-load.ts";
export type { CacheStats, GroupStats } from "./stats.ts";
