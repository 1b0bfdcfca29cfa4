import { Histogram, PromText } from "@geecache/cli";

/** Upper bounds of the request-duration buckets, in seconds (from cache hits to the deadline). */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The routes counted by name; anything else (404s) counts as "other", so labels stay few. */
const ROUTES = new Set(["/api", "/api/stats", "/healthz", "/metrics"]);

/** GatewayMetrics counts what the gateway does, for GET /metrics. */
export interface GatewayMetrics {
  /** Valid /api requests that asked the cluster (joined a call in flight or started one). */
  lookups: number;
  /** Calls to the cluster started for them: lookups less the ones that joined. */
  sharedCalls: number;
  /** Counts one call to a node (the owner or a fallback) by its outcome: "OK" or an error code. */
  called(outcome: string): void;
  /** Counts one response, by route and status; /api's durations go into a histogram. */
  responded(route: string | undefined, status: number, elapsedMs: number): void;
  /** The Prometheus text of it all, with the ring's current node counts. */
  text(): string;
}

/** createGatewayMetrics starts every count at zero. */
export function createGatewayMetrics(ring: {
  peers(): string[];
  downPeers(): string[];
}): GatewayMetrics {
  // "route status" and outcome: both from small fixed sets.
  const responses = new Map<string, number>();
  const calls = new Map<string, number>();
  const apiDuration = new Histogram(DURATION_BUCKETS);
  const metrics: GatewayMetrics = {
    lookups: 0,
    sharedCalls: 0,
    called(outcome) {
      calls.set(outcome, (calls.get(outcome) ?? 0) + 1);
    },
    responded(route, status, elapsedMs) {
      const name = route !== undefined && ROUTES.has(route) ? route : "other";
      const k = `${name} ${status}`;
      responses.set(k, (responses.get(k) ?? 0) + 1);
      if (name === "/api") apiDuration.observe(elapsedMs / 1000);
    },
    text() {
      const text = new PromText()
        .family("geecache_gateway_nodes", "gauge", "Nodes the gateway routes to.", [
          { value: ring.peers().length },
        ])
        .family("geecache_gateway_nodes_down", "gauge", "Nodes out of use for failing.", [
          { value: ring.downPeers().length },
        ])
        .family(
          "geecache_gateway_responses_total",
          "counter",
          "Responses by route and HTTP status.",
          [...responses].map(([k, value]) => {
            const [route, code] = k.split(" ") as [string, string];
            return { labels: { route, code }, value };
          }),
        )
        .histogram(
          "geecache_gateway_api_duration_seconds",
          "Time to answer GET /api, from request to response.",
          apiDuration,
        )
        .family(
          "geecache_gateway_lookups_total",
          "counter",
          "Valid /api requests that asked the cluster.",
          [{ value: metrics.lookups }],
        )
        .family(
          "geecache_gateway_shared_calls_total",
          "counter",
          "Calls to the cluster those lookups started; the rest joined a call in flight for the same key.",
          [{ value: metrics.sharedCalls }],
        )
        .family(
          "geecache_gateway_node_calls_total",
          "counter",
          "Calls to nodes (owners and fallbacks) by outcome: OK or an error code.",
          [...calls].map(([outcome, value]) => ({ labels: { outcome }, value })),
        );
      return text.processFamilies().toString();
    },
  };
  return metrics;
}
