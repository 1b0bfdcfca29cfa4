import { PromText } from "@geecache/cli";
import type { GroupStats } from "@geecache/core";
import type { NodeStats } from "./build-app.ts";

/** Each counter of a group's stats, by its metric name and help (core's GroupStats meanings). */
const GROUP_COUNTERS: readonly [keyof GroupStats, string, string][] = [
  ["gets", "geecache_group_gets_total", "Gets, including the ones peers forwarded here."],
  ["cacheHits", "geecache_group_cache_hits_total", "Gets answered from the main or hot cache."],
  ["hotCacheHits", "geecache_group_hot_cache_hits_total", "Gets answered from the hot cache."],
  [
    "negativeHits",
    "geecache_group_negative_hits_total",
    "Gets answered not found from the negative cache.",
  ],
  ["loads", "geecache_group_loads_total", "Gets that missed every cache."],
  [
    "loadsDeduped",
    "geecache_group_loads_deduped_total",
    "Loads left after singleflight: each fetched from a peer or called the getter.",
  ],
  ["peerLoads", "geecache_group_peer_loads_total", "Values or not-founds fetched from the owner."],
  [
    "peerErrors",
    "geecache_group_peer_errors_total",
    "Failed fetches from a peer, each followed by a local load.",
  ],
  ["localLoads", "geecache_group_local_loads_total", "Getter calls that returned a value."],
  [
    "localLoadErrs",
    "geecache_group_local_load_errors_total",
    "Getter calls that failed (not counting not found).",
  ],
  ["notFound", "geecache_group_not_found_total", "Loads answered not found."],
  ["serverRequests", "geecache_group_server_requests_total", "Gets forwarded here by peers."],
  [
    "handoffs",
    "geecache_group_handoffs_total",
    "Loads answered from the previous owner's cache after a membership change.",
  ],
  [
    "handoffRequests",
    "geecache_group_handoff_requests_total",
    "Cache-only gets from peers taking keys over (not in gets).",
  ],
];

/** nodeMetrics renders a node's stats as Prometheus text, for GET /metrics. */
export function nodeMetrics(stats: NodeStats): string {
  const groups = Object.entries(stats.groups);
  const text = new PromText();
  text.family("geecache_node_info", "gauge", "This node: its id (advertised address) and policy.", [
    { labels: { id: stats.id, policy: stats.policy }, value: 1 },
  ]);
  text.family("geecache_peers", "gauge", "Members of the ring, this node included.", [
    { value: stats.peers.length },
  ]);
  text.family("geecache_peers_down", "gauge", "Peers out of use for failing.", [
    { value: stats.downPeers.length },
  ]);
  for (const [field, name, help] of GROUP_COUNTERS) {
    text.family(
      name,
      "counter",
      help,
      groups.map(([group, g]) => ({ labels: { group }, value: g[field] as number })),
    );
  }
  const caches = groups.flatMap(([group, g]) => [
    { labels: { group, cache: "main" }, c: g.mainCache },
    { labels: { group, cache: "hot" }, c: g.hotCache },
  ]);
  const perCache = (pick: (c: GroupStats["mainCache"]) => number) =>
    caches.map(({ labels, c }) => ({ labels, value: pick(c) }));
  text
    .family(
      "geecache_cache_bytes",
      "gauge",
      "Bytes held (keys and values).",
      perCache((c) => c.bytes),
    )
    .family(
      "geecache_cache_items",
      "gauge",
      "Entries held.",
      perCache((c) => c.items),
    )
    .family(
      "geecache_cache_gets_total",
      "counter",
      "Lookups.",
      perCache((c) => c.gets),
    )
    .family(
      "geecache_cache_hits_total",
      "counter",
      "Lookups that found a live value.",
      perCache((c) => c.hits),
    )
    .family(
      "geecache_cache_evictions_total",
      "counter",
      "Entries evicted for room (not expiries or removals).",
      perCache((c) => c.evictions),
    );
  return text.processFamilies().toString();
}
