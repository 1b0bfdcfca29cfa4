import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { rng } from "@geecache/testkit";
import { GeeCacheError } from "./errors.ts";
import type { Group } from "./group.ts";
import type { PeerGetter, PeerPicker } from "./peers.ts";
import { createRegistry } from "./registry.ts";
import { tick } from "./test-util.ts";

const NODES = 3;
const KEYS = 12;
const CODES = new Set(["NOT_FOUND", "LOAD_FAILED", "CANCELED"]);

async function ticks(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await tick();
}

// Three groups wired to each other as a cluster is, through in-process peers that may fail or
// answer late, with getters that may fail, find nothing, or take a while; callers that may give
// up. No real timers: every delay is a number of event-loop turns drawn from the seed.
async function runSeed(seed: number): Promise<void> {
  const random = rng(seed);
  const groups: Group[] = [];
  /** Getter calls in progress, per node and key: never more than one (singleflight). */
  const active = new Map<string, number>();
  // Recorded, not thrown: a getter's throw would reach callers as LOAD_FAILED, a documented code.
  const overlaps: string[] = [];
  const owner = (key: string) => Number(key.slice(1)) % NODES;

  const peerOf = (to: number): PeerGetter => ({
    id: `n${to}`,
    async get(req, options) {
      await ticks(Math.floor(random() * 3));
      if (random() < 0.1) throw new GeeCacheError("UNAVAILABLE", `n${to} is down`);
      const view = await groups[to]!.get(req.key, { fromPeer: true, signal: options?.signal });
      return { value: view.toBuffer() };
    },
  });
  for (let n = 0; n < NODES; n++) {
    const peers = new Map<number, PeerGetter>();
    for (let m = 0; m < NODES; m++) if (m !== n) peers.set(m, peerOf(m));
    const picker: PeerPicker = { pickPeer: (key) => peers.get(owner(key)) };
    groups.push(
      createRegistry({ peers: picker }).newGroup({
        name: "g",
        maxBytes: 200,
        hotCacheSampleRate: 0.5,
        random,
        async getter(key, { signal }) {
          const slot = `${n}/${key}`;
          const now = (active.get(slot) ?? 0) + 1;
          if (now > 1) overlaps.push(slot);
          active.set(slot, now);
          // A load whose callers all gave up is over for the group, which may start another;
          // this getter stops there, as a getter that honours its signal does.
          let over = false;
          const end = () => {
            if (over) return;
            over = true;
            active.set(slot, active.get(slot)! - 1);
          };
          signal.addEventListener("abort", end, { once: true });
          try {
            await ticks(Math.floor(random() * 4));
            if (signal.aborted) throw signal.reason;
            const r = random();
            if (r < 0.05) throw new Error("source down");
            if (r < 0.1) return undefined;
            return `${key}:value`;
          } finally {
            signal.removeEventListener("abort", end);
            end();
          }
        },
      }),
    );
  }

  for (let batch = 0; batch < 20; batch++) {
    const calls: Promise<void>[] = [];
    for (let i = 0; i < 10; i++) {
      const key = `k${Math.floor(random() * KEYS)}`;
      const node = Math.floor(random() * NODES);
      const controller = random() < 0.15 ? new AbortController() : undefined;
      if (controller !== undefined) {
        const after = Math.floor(random() * 4);
        void ticks(after).then(() => controller.abort());
      }
      calls.push(
        groups[node]!.get(key, { signal: controller?.signal }).then(
          (view) => assert.equal(view.toString(), `${key}:value`, `seed ${seed}: ${key}`),
          (e: unknown) => {
            assert.ok(e instanceof GeeCacheError, `seed ${seed}: ${String(e)}`);
            assert.ok(CODES.has(e.code), `seed ${seed}: ${key} failed with ${e.code}`);
          },
        ),
      );
    }
    await Promise.all(calls);
  }

  assert.deepEqual(overlaps, [], `seed ${seed}: two loads of one key at once on one node`);
  for (const g of groups) {
    const s = g.stats();
    assert.equal(s.loads, s.gets - s.cacheHits - s.negativeHits, `seed ${seed}: loads`);
    assert.ok(s.loadsDeduped <= s.loads, `seed ${seed}: loadsDeduped`);
    assert.ok(s.hotCacheHits <= s.cacheHits, `seed ${seed}: hotCacheHits`);
    assert.ok(s.mainCache.bytes + s.hotCache.bytes <= 200, `seed ${seed}: bytes`);
  }
}

describe("Group, randomized as a three-node cluster", () => {
  it("every get settles with its own key's value or a documented error; stats add up", async () => {
    for (let seed = 1; seed <= 40; seed++) await runSeed(seed);
  });
});
