import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GeeCacheError } from "./errors.ts";
import { createRingPeerPicker } from "./ring-peer-picker.ts";
import { deferred, type FakePeer, fakePeer, tick } from "./test-util.ts";

// The injected hash makes owners exact: the virtual node "<addr>#0" hashes to the number that
// ends the address ("n:10" -> 10), and a key "k<number>" hashes to that number, so a key is
// owned by the first node at or after it (wrapping around).
function hash(s: string): number {
  const m = /(\d+)(#0)?$/.exec(s);
  return m ? Number(m[1]) : 0;
}

function setup(self?: string) {
  const created: FakePeer[] = [];
  const picker = createRingPeerPicker({
    self,
    replicas: 1,
    hash,
    createPeer: (address) => {
      const p = fakePeer(address);
      created.push(p);
      return p;
    },
  });
  return { picker, created };
}

describe("RingPeerPicker", () => {
  it("returns the owner's PeerGetter, and undefined when self owns the key", () => {
    const { picker, created } = setup("n:20");
    picker.setPeers(["n:10", "n:20", "n:30"]);
    assert.deepEqual(
      created.map((p) => p.id),
      ["n:10", "n:30"],
    );
    assert.equal(picker.pickPeer("k5")?.id, "n:10");
    assert.equal(picker.pickPeer("k15"), undefined); // self
    assert.equal(picker.ownerOf("k15"), "n:20");
    assert.equal(picker.pickPeer("k25")?.id, "n:30");
    assert.equal(picker.pickPeer("k35")?.id, "n:10"); // wraps
    assert.deepEqual(picker.peers(), ["n:10", "n:20", "n:30"]);
  });

  it("with no members every key is local", () => {
    const { picker } = setup("n:20");
    assert.equal(picker.pickPeer("k1"), undefined);
    assert.equal(picker.ownerOf("k1"), undefined);
  });

  it("without self (a gateway) always names a peer", () => {
    const { picker } = setup();
    picker.setPeers([
      { id: "a", address: "n:10" },
      { id: "b", address: "n:20", weight: 1 },
    ]);
    assert.equal(picker.pickPeer("k15")?.id, "n:20");
  });

  it("pickPeers lists the owner first, then successors, skipping self", () => {
    const { picker } = setup("n:20");
    picker.setPeers(["n:10", "n:20", "n:30"]);
    assert.deepEqual(
      picker.pickPeers("k5", 3).map((p) => p.id),
      ["n:10", "n:30"],
    );
    assert.deepEqual(
      picker.pickPeers("k15", 1).map((p) => p.id),
      ["n:30"],
    );
    assert.deepEqual(picker.pickPeers("k15", 0), []);
  });

  it("keeps getters of staying peers and closes the ones that left", async () => {
    const { picker, created } = setup();
    picker.setPeers(["n:10", "n:20"]);
    const first = picker.pickPeer("k15");
    picker.setPeers(["n:20", "n:30"]);
    assert.equal(picker.pickPeer("k15"), first);
    assert.equal(picker.pickPeer("k5")?.id, "n:20");
    assert.equal(created.length, 3);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      created.map((p) => [p.id, p.closed]),
      [
        ["n:10", 1],
        ["n:20", 0],
        ["n:30", 0],
      ],
    );
    await picker.close();
    assert.deepEqual(
      created.map((p) => p.closed),
      [1, 1, 1],
    );
    assert.equal(picker.pickPeer("k15"), undefined);
  });

  it("closes a peer that left in the background, and close() waits for it", async () => {
    // The left peer's close takes as long as its calls in flight; the test says when it ends.
    const draining = deferred<void>();
    const closed: string[] = [];
    const picker = createRingPeerPicker({
      replicas: 1,
      hash,
      createPeer: (address) => ({
        ...fakePeer(address),
        close: async () => {
          if (address === "n:10") await draining.promise;
          closed.push(address);
        },
      }),
    });
    picker.setPeers(["n:10", "n:20"]);
    picker.setPeers(["n:20"]); // does not wait for n:10 to close
    assert.equal(picker.pickPeer("k5")?.id, "n:20");
    let done = false;
    const closing = picker.close().then(() => {
      done = true;
    });
    await tick();
    assert.deepEqual(closed, ["n:20"]);
    assert.equal(done, false, "close() waits for the peer that left");
    draining.resolve();
    await closing;
    assert.deepEqual(closed, ["n:20", "n:10"]);
  });

  it("leaves the membership unchanged on a bad list", () => {
    const { picker } = setup();
    picker.setPeers(["n:10"]);
    assert.throws(
      () => picker.setPeers(["n:20", { id: "x", address: "n:30", weight: -1 }]),
      GeeCacheError,
    );
    assert.deepEqual(picker.peers(), ["n:10"]);
  });

  it("spreads keys over members with the default hash", () => {
    const picker = createRingPeerPicker({
      self: "a:1",
      createPeer: (address) => fakePeer(address),
    });
    picker.setPeers(["a:1", "b:1", "c:1"]);
    const owners = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const o = picker.ownerOf(`key-${i}`)!;
      owners.set(o, (owners.get(o) ?? 0) + 1);
    }
    for (const n of owners.values()) assert.ok(n > 600 && n < 1400, `uneven: ${[...owners]}`);
  });

  it("setPeers refuses one string (an iterable of characters)", () => {
    const { picker, created } = setup();
    assert.throws(
      () => picker.setPeers("n:10"),
      (e: unknown) => e instanceof GeeCacheError && e.code === "INVALID_ARGUMENT",
    );
    assert.deepEqual(picker.peers(), []);
    assert.deepEqual(created, []);
  });

  describe("previousOwner", () => {
    function handoffSetup(
      handoffWindowMs?: number,
      extra: Partial<Parameters<typeof createRingPeerPicker>[0]> = {},
    ) {
      let clock = 0;
      const picker = createRingPeerPicker({
        self: "n:30",
        replicas: 1,
        hash,
        now: () => clock,
        createPeer: (address) => fakePeer(address),
        ...(handoffWindowMs === undefined ? {} : { handoffWindowMs }),
        ...extra,
      });
      return { picker, advance: (ms: number) => (clock += ms) };
    }

    it("after the window, the same list again or a new node is no join of self", () => {
      const { picker, advance } = handoffSetup(1_000);
      picker.setPeers(["n:10", "n:20"]);
      picker.setPeers(["n:10", "n:20", "n:30"]);
      advance(1_000);
      assert.equal(picker.previousOwner("k25"), undefined); // looked up after the window
      picker.setPeers(["n:10", "n:20", "n:30"]);
      assert.equal(picker.previousOwner("k25"), undefined);
      picker.setPeers(["n:10", "n:20", "n:30", "n:40"]);
      assert.equal(picker.previousOwner("k25"), undefined); // self's before and after
      assert.equal(picker.previousOwner("k35")?.id, "n:10"); // moved from n:10 to n:40
    });

    it("a repeated id or another order is no change; another weight is", () => {
      const { picker } = handoffSetup();
      picker.setPeers(["n:10", "n:20"]);
      picker.setPeers(["n:10", "n:20", "n:30"]);
      picker.setPeers(["n:20", "n:30", "n:10", "n:20"]);
      assert.equal(picker.previousOwner("k25")?.id, "n:10");
      picker.setPeers([
        { id: "a", address: "n:10", weight: 2 },
        { id: "b", address: "n:20" },
        { id: "c", address: "n:30" },
      ]);
      // The change before this one is forgotten: k25 was self's under the last ring.
      assert.equal(picker.previousOwner("k25"), undefined);
    });

    it("names no previous owner the breaker took out of use", async () => {
      const { picker } = handoffSetup(undefined, { breaker: { failures: 1 } });
      picker.setPeers(["n:10", "n:20"]);
      picker.setPeers(["n:10", "n:20", "n:30"]);
      assert.equal(picker.previousOwner("k25")?.id, "n:10");
      await picker
        .pickPeer("k5")!
        .get({ group: "g", key: "k5" })
        .catch(() => {});
      assert.deepEqual(picker.downPeers(), ["n:10"]);
      assert.equal(picker.previousOwner("k25"), undefined);
    });

    it("ends early after 64 hand-off calls in a row that found nothing", async () => {
      const { picker } = handoffSetup(undefined, {
        breaker: false,
        createPeer: (address) =>
          fakePeer(address, async (req) => {
            if (req.key === "held") return { value: new Uint8Array(1) };
            if (req.key === "slow") throw new GeeCacheError("DEADLINE_EXCEEDED", "no answer");
            if (req.key === "left") throw new GeeCacheError("CANCELED", "the caller left");
            throw new GeeCacheError("NOT_FOUND", "not cached");
          }),
      });
      picker.setPeers(["n:10", "n:20", "n:30"]);
      const ask = (key: string) =>
        picker
          .previousOwner("k25")!
          .get({ group: "g", key })
          .catch(() => {});
      // Only "not cached" counts: a slow old owner or a caller that left says nothing of it.
      for (let i = 0; i < 64; i++) await ask("slow");
      for (let i = 0; i < 64; i++) await ask("left");
      for (let i = 0; i < 63; i++) await ask("cold");
      await ask("held"); // a value found starts the count again
      for (let i = 0; i < 63; i++) await ask("cold");
      assert.equal(picker.previousOwner("k25")?.id, "n:10");
      await ask("cold");
      assert.equal(picker.previousOwner("k25"), undefined);
    });

    it("names the owner before the last change, for the window, while it is a member", () => {
      const { picker, advance } = handoffSetup(1_000);
      picker.setPeers(["n:10", "n:20"]);
      // The first list without self changes nothing: no key had an owner before it.
      assert.equal(picker.previousOwner("k25"), undefined);
      picker.setPeers(["n:10", "n:20", "n:30"]);
      // k25 wrapped around to n:10; it is self's now.
      assert.equal(picker.previousOwner("k25")?.id, "n:10");
      assert.equal(picker.previousOwner("k15"), undefined); // n:20's before and after
      // The same list again (discovery reconnecting) keeps the hand-off of the real change.
      picker.setPeers(["n:30", "n:20", "n:10"]);
      assert.equal(picker.previousOwner("k25")?.id, "n:10");
      advance(999);
      assert.equal(picker.previousOwner("k25")?.id, "n:10");
      advance(1);
      assert.equal(picker.previousOwner("k25"), undefined);
    });

    it("takes a first list with self and others as self joining them", () => {
      const { picker } = handoffSetup();
      picker.setPeers(["n:10", "n:20", "n:30"]);
      assert.equal(picker.ownerOf("k25"), "n:30");
      assert.equal(picker.previousOwner("k25")?.id, "n:10");
      assert.equal(picker.previousOwner("k15"), undefined);
      // Alone, there is nobody to take keys from.
      const alone = handoffSetup().picker;
      alone.setPeers(["n:30"]);
      assert.equal(alone.previousOwner("k25"), undefined);
    });

    it("names no node that left, and never self", () => {
      const { picker } = handoffSetup();
      picker.setPeers(["n:10", "n:20", "n:30"]);
      picker.setPeers(["n:20", "n:30"]);
      // k5 moved from n:10, which left, to n:20.
      assert.equal(picker.ownerOf("k5"), "n:20");
      assert.equal(picker.previousOwner("k5"), undefined);
      picker.setPeers(["n:20", "n:25", "n:30"]);
      // k22 moved from self (n:30) to n:25: self has nothing to ask itself for.
      assert.equal(picker.ownerOf("k22"), "n:25");
      assert.equal(picker.previousOwner("k22"), undefined);
      // k5 is n:20's before and after this change: nobody to ask.
      assert.equal(picker.previousOwner("k5"), undefined);
    });

    it("handoffWindowMs 0 turns it off; a bad one is INVALID_ARGUMENT", () => {
      const { picker } = handoffSetup(0);
      picker.setPeers(["n:10", "n:20", "n:30"]);
      assert.equal(picker.previousOwner("k25"), undefined);
      picker.setPeers(["n:10", "n:20"]);
      picker.setPeers(["n:10", "n:20", "n:30"]);
      assert.equal(picker.previousOwner("k25"), undefined);
      for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
        assert.throws(
          () => handoffSetup(bad),
          (e: unknown) => e instanceof GeeCacheError && e.code === "INVALID_ARGUMENT",
        );
      }
    });
  });

  describe("breaker", () => {
    // n:10 owns k5; its answers are scripted per call.
    function breakerSetup(breaker?: { failures?: number; cooldownMs?: number } | false) {
      let clock = 0;
      let answer: () => Promise<{ value: Uint8Array }> = () =>
        Promise.reject(new GeeCacheError("UNAVAILABLE", "refused"));
      const created: FakePeer[] = [];
      const warnings: object[] = [];
      const picker = createRingPeerPicker({
        self: "n:20",
        replicas: 1,
        hash,
        now: () => clock,
        ...(breaker === undefined ? {} : { breaker }),
        logger: {
          debug() {},
          info() {},
          warn: (obj) => warnings.push(obj),
          error() {},
        },
        createPeer: (address) => {
          const p = fakePeer(address, () => answer());
          created.push(p);
          return p;
        },
      });
      picker.setPeers(["n:10", "n:20", "n:30"]);
      const call = (key = "k5") => {
        const peer = picker.pickPeer(key);
        return peer === undefined
          ? "skipped"
          : peer.get({ group: "g", key }).then(
              () => "ok",
              () => "failed",
            );
      };
      return {
        picker,
        created,
        warnings,
        call,
        advance: (ms: number) => {
          clock += ms;
        },
        answerWith: (f: typeof answer) => {
          answer = f;
        },
      };
    }
    const ok = () => Promise.resolve({ value: new Uint8Array(1) });

    it("skips a peer after 3 failures in a row, probes it once per cooldown, and takes it back", async () => {
      const b = breakerSetup();
      for (let i = 0; i < 3; i++) assert.equal(await b.call(), "failed");
      assert.deepEqual(b.picker.downPeers(), ["n:10"]);
      assert.equal(b.warnings.length, 1);
      assert.equal(await b.call(), "skipped");
      // The gateway's list puts it after the others.
      assert.deepEqual(
        b.picker.pickPeers("k5", 2).map((p) => p.id),
        ["n:30", "n:10"],
      );
      b.advance(999);
      assert.equal(await b.call(), "skipped");
      b.advance(1);
      // Cooldown over: one probe goes out; a second caller meanwhile is still skipped.
      const probe = b.picker.pickPeer("k5");
      assert.equal(probe?.id, "n:10");
      assert.equal(await b.call(), "skipped");
      await probe!.get({ group: "g", key: "k5" }).catch(() => {});
      // The probe failed: twice the cooldown.
      b.advance(1_999);
      assert.equal(await b.call(), "skipped");
      b.advance(1);
      b.answerWith(ok);
      assert.equal(await b.call(), "ok");
      assert.deepEqual(b.picker.downPeers(), []);
      assert.equal(await b.call(), "ok");
      assert.equal(b.created[0]!.calls.length, 3 + 1 + 2);
    });

    it("pickPeers fills a down peer's place from further up the ring", async () => {
      const b = breakerSetup();
      b.picker.setPeers(["n:10", "n:20", "n:30", "n:40"]);
      // k5's ring order: n:10, (self n:20), n:30, n:40. Take n:10 and n:30 out of use.
      for (let i = 0; i < 3; i++) assert.equal(await b.call("k5"), "failed");
      for (let i = 0; i < 3; i++) assert.equal(await b.call("k25"), "failed");
      assert.deepEqual(b.picker.downPeers(), ["n:10", "n:30"]);
      assert.deepEqual(
        b.picker.pickPeers("k5", 2).map((p) => p.id),
        ["n:40", "n:10"],
      );
      assert.deepEqual(
        b.picker.pickPeers("k5", 1).map((p) => p.id),
        ["n:40"],
      );
      assert.deepEqual(
        b.picker.pickPeers("k5", 5).map((p) => p.id),
        ["n:40", "n:10", "n:30"],
      );
    });

    it("counts only the peer's failures: an answer resets, a caller's cancel is not judged", async () => {
      const b = breakerSetup();
      const fail = () => Promise.reject(new GeeCacheError("UNAVAILABLE", "refused"));
      const outcomes: (() => Promise<{ value: Uint8Array }>)[] = [
        fail,
        fail,
        () => Promise.reject(new GeeCacheError("NOT_FOUND", "no such key")),
        fail,
        fail,
        () => Promise.reject(new GeeCacheError("LOAD_FAILED", "its source failed")),
        fail,
        fail,
      ];
      for (const f of outcomes) {
        b.answerWith(f);
        await b.call();
      }
      assert.deepEqual(b.picker.downPeers(), []);
      // Cancelled by the caller: not a failure, whatever the peer reports.
      b.answerWith(() => Promise.reject(new GeeCacheError("CANCELED", "canceled")));
      const cancel = new AbortController();
      cancel.abort(new GeeCacheError("CANCELED", "client went away"));
      await b.picker
        .pickPeer("k5")!
        .get({ group: "g", key: "k5" }, { signal: cancel.signal })
        .catch(() => {});
      assert.deepEqual(b.picker.downPeers(), []);
      // Out of time counts (for a peer without a health check), whether the deadline was the
      // caller's or the transport's.
      const late = new AbortController();
      late.abort(new GeeCacheError("DEADLINE_EXCEEDED", "peer deadline"));
      await b.picker
        .pickPeer("k5")!
        .get({ group: "g", key: "k5" }, { signal: late.signal })
        .catch(() => {});
      assert.deepEqual(b.picker.downPeers(), ["n:10"]);
    });

    it("does not stretch the cooldown for calls that were already out when the peer went down", async () => {
      const b = breakerSetup();
      const pending: ((e: Error) => void)[] = [];
      b.answerWith(() => new Promise((_resolve, reject) => pending.push(reject)));
      const out = Array.from({ length: 6 }, () => b.call());
      for (const reject of pending) reject(new GeeCacheError("DEADLINE_EXCEEDED", "slow"));
      assert.deepEqual(await Promise.all(out), Array(6).fill("failed"));
      b.advance(1_000);
      b.answerWith(ok);
      assert.equal(await b.call(), "ok");
    });

    it("forgets a peer that leaves, and can be turned off", async () => {
      const b = breakerSetup();
      for (let i = 0; i < 3; i++) await b.call();
      assert.deepEqual(b.picker.downPeers(), ["n:10"]);
      b.picker.setPeers(["n:20", "n:30"]);
      b.picker.setPeers(["n:10", "n:20", "n:30"]);
      assert.deepEqual(b.picker.downPeers(), []);
      assert.equal(await b.call(), "failed");

      const off = breakerSetup(false);
      for (let i = 0; i < 10; i++) assert.equal(await off.call(), "failed");
      assert.deepEqual(off.picker.downPeers(), []);
      const one = breakerSetup({ failures: 1, cooldownMs: 50 });
      assert.equal(await one.call(), "failed");
      assert.equal(await one.call(), "skipped");
    });

    it("does not count a call that fails after its peer left the ring", async () => {
      const b = breakerSetup({ failures: 1 });
      const failLater = deferred<{ value: Uint8Array }>();
      b.answerWith(() => failLater.promise);
      const inFlight = b.call("k5"); // to n:10
      b.picker.setPeers(["n:20", "n:30"]); // n:10 leaves; its call is let finish
      failLater.reject(new GeeCacheError("DEADLINE_EXCEEDED", "late"));
      assert.equal(await inFlight, "failed");
      b.picker.setPeers(["n:10", "n:20", "n:30"]); // and comes back
      assert.deepEqual(b.picker.downPeers(), []);
      assert.equal(b.picker.pickPeer("k5")?.id, "n:10");
      assert.deepEqual(b.warnings, []);
    });

    it("hands out the transport's getter with everything it offers besides get", async () => {
      const b = breakerSetup();
      const picked = b.picker.pickPeer("k5") as FakePeer;
      assert.equal(picked.id, "n:10");
      assert.equal(picked.calls, b.created[0]!.calls);
      await picked.close?.();
      assert.equal(b.created[0]!.closed, 1);
    });

    /**
     * A picker whose peer n:10 owns k5, fails every call with error and has probe as its
     * health check; call() makes one call for k5.
     */
    function probedPicker(
      error: GeeCacheError,
      probe: () => Promise<void>,
      breaker?: { cooldownMs: number; maxCooldownMs: number },
    ) {
      const peer = fakePeer("n:10", () => Promise.reject(error));
      const picker = createRingPeerPicker({
        self: "n:20",
        replicas: 1,
        hash,
        ...(breaker === undefined ? {} : { breaker }),
        createPeer: () => ({ ...peer, get: peer.get, probe }),
      });
      picker.setPeers(["n:10", "n:20"]);
      const call = () =>
        picker
          .pickPeer("k5")!
          .get({ group: "g", key: "k5" })
          .catch(() => {});
      return { peer, picker, call };
    }

    it("tests a peer that can be probed in the background: no user call goes to it until it answers", async () => {
      let healthy = false;
      const pending: (() => void)[] = [];
      const { peer, picker, call } = probedPicker(
        new GeeCacheError("UNAVAILABLE", "refused"),
        // A probe answers when the test lets it: fail while unhealthy.
        () =>
          healthy
            ? Promise.resolve()
            : new Promise<void>((_resolve, reject) =>
                pending.push(() => reject(new GeeCacheError("UNAVAILABLE", "refused"))),
              ),
        { cooldownMs: 5, maxCooldownMs: 20 },
      );
      const until = async (cond: () => boolean) => {
        for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
        assert.ok(cond());
      };
      for (let i = 0; i < 3; i++) await call();
      assert.deepEqual(picker.downPeers(), ["n:10"]);
      // The cooldown is over and the probe is out: user calls still do not go to the peer.
      await until(() => pending.length === 1);
      assert.equal(picker.pickPeer("k5"), undefined);
      assert.deepEqual(picker.downPeers(), ["n:10"]);
      pending[0]!();
      await until(() => pending.length === 2);
      assert.equal(picker.pickPeer("k5"), undefined);
      healthy = true;
      pending[1]!();
      // The next probe succeeds and the peer is back.
      await until(() => picker.downPeers().length === 0);
      assert.equal(picker.pickPeer("k5")?.id, "n:10");
      assert.equal(peer.calls.length, 3);
      await picker.close();
    });

    it("a call out of time takes a peer out only when its health check does not answer either", async () => {
      let healthy = true;
      let probes = 0;
      const probeAnswers: (() => void)[] = [];
      const { picker, call } = probedPicker(
        new GeeCacheError("DEADLINE_EXCEEDED", "no answer in time"),
        () => {
          probes++;
          return new Promise<void>((resolve, reject) =>
            probeAnswers.push(() =>
              healthy ? resolve() : reject(new GeeCacheError("DEADLINE_EXCEEDED", "none")),
            ),
          );
        },
      );
      const settleProbes = async () => {
        for (const answer of probeAnswers.splice(0)) answer();
        await new Promise((r) => setTimeout(r, 0));
      };
      // A slow key (say a slow origin): ten calls run out of time, but the peer answers its
      // health check, so it stays in use. One check at a time, not one per call.
      for (let i = 0; i < 10; i++) await call();
      assert.equal(probes, 1);
      await settleProbes();
      assert.deepEqual(picker.downPeers(), []);
      for (let i = 0; i < 10; i++) await call();
      await settleProbes();
      assert.deepEqual(picker.downPeers(), []);
      assert.equal(probes, 2);
      // A hung peer: its health check gets no answer either, and one such call takes it out.
      healthy = false;
      await call();
      await settleProbes();
      assert.deepEqual(picker.downPeers(), ["n:10"]);
      await picker.close();
    });

    it("refuses bad breaker options", () => {
      for (const breaker of [
        { failures: 0 },
        { failures: 1.5 },
        { cooldownMs: 0 },
        { cooldownMs: 10, maxCooldownMs: 5 },
      ]) {
        assert.throws(
          () => createRingPeerPicker({ createPeer: (a) => fakePeer(a), breaker }),
          (e: unknown) => e instanceof GeeCacheError && e.code === "INVALID_ARGUMENT",
          JSON.stringify(breaker),
        );
      }
    });
  });
});
