import assert from "node:assert/strict";
import * as http2 from "node:http2";
import * as net from "node:net";
import { after, before, describe, test } from "node:test";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createRegistry, GeeCacheError } from "@geecache/core";
import { createCacheService } from "./cache-service.ts";
import { createPeerClient } from "./peer-client.ts";
import { createConnectPeerPicker } from "./peer-picker.ts";
import { startCacheServer } from "./server.ts";
import { GuardedSessionManager } from "./session-manager.ts";

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
  });
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "resolved";
  } catch (err) {
    assert.ok(err instanceof GeeCacheError, `a GeeCacheError, got ${String(err)}`);
    return err.code;
  }
}

describe("createPeerClient against peers that cannot answer", () => {
  test("a closed port fails UNAVAILABLE at once", async () => {
    const probe = net.createServer();
    const port = await listen(probe);
    await close(probe); // nothing listens there now
    const peer = createPeerClient(`127.0.0.1:${port}`, { timeoutMs: 60_000 });
    const started = performance.now();
    assert.equal(await codeOf(peer.get({ group: "g", key: "k" })), "UNAVAILABLE");
    // Far below the deadline: a refusal is not waited out.
    assert.ok(performance.now() - started < 5_000);
    await peer.close();
  });

  test("a peer that accepts but never answers fails DEADLINE_EXCEEDED at the deadline", async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.resume(); // swallow everything, answer nothing
    });
    const port = await listen(silent);
    const peer = createPeerClient(`127.0.0.1:${port}`, { timeoutMs: 200 });
    const started = performance.now();
    assert.equal(await codeOf(peer.get({ group: "g", key: "k" })), "DEADLINE_EXCEEDED");
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 190, `not before the deadline (${elapsed} ms)`);
    assert.ok(elapsed < 5_000, `no hang past the deadline (${elapsed} ms)`);
    // A per-call deadline overrides the client's.
    assert.equal(
      await codeOf(peer.get({ group: "g", key: "k" }, { timeoutMs: 50 })),
      "DEADLINE_EXCEEDED",
    );
    assert.equal(await codeOf(peer.probe({ timeoutMs: 50 })), "DEADLINE_EXCEEDED");
    await peer.close();
    for (const socket of sockets) socket.destroy();
    await close(silent);
  });

  test("sends its deadline as grpc-timeout; answers that are not gRPC fail UNAVAILABLE or INTERNAL", async (t) => {
    const seen: http2.IncomingHttpHeaders[] = [];
    const answers: ((res: http2.Http2ServerResponse) => void)[] = [
      (res) => res.writeHead(404, { "content-type": "text/plain" }).end("no such route"),
      // gRPC headers but no grpc-status anywhere: a broken or foreign server.
      (res) => res.writeHead(200, { "content-type": "application/grpc" }).end(),
      // A malformed message frame: it says 100 bytes and carries 3.
      (res) => {
        res.writeHead(200, { "content-type": "application/grpc" });
        res.addTrailers({ "grpc-status": "0" });
        res.end(Buffer.from([0, 0, 0, 0, 100, 1, 2, 3]));
      },
      (res) => res.writeHead(404, { "content-type": "text/plain" }).end("no such route"),
    ];
    const plain = http2.createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      answers[seen.length - 1]!(res);
    });
    const port = await listen(plain);
    const peer = createPeerClient(`127.0.0.1:${port}`, { timeoutMs: 1_500 });
    t.after(async () => {
      await peer.close();
      await close(plain);
    });
    // The time the call has left when its headers go out: a little less than its deadline on a
    // loaded machine (the first call also waits for the connection).
    const sentMs = (i: number) => {
      const header = String(seen[i]?.["grpc-timeout"]);
      assert.match(header, /^\d{1,8}m$/);
      return Number(header.slice(0, -1));
    };
    assert.equal(await codeOf(peer.get({ group: "g", key: "k" })), "UNAVAILABLE");
    assert.ok(sentMs(0) <= 1_500 && sentMs(0) > 1_000, `${sentMs(0)} ms`);
    assert.equal(seen[0]?.["content-type"], "application/grpc+proto");
    assert.equal(seen[0]?.[":path"], "/geecache.v1.CacheService/Get");
    assert.equal(
      // Long enough that a loaded machine still sees the answer, not the deadline.
      await codeOf(peer.get({ group: "g", key: "k" }, { timeoutMs: 1_200 })),
      "UNAVAILABLE",
    );
    assert.ok(sentMs(1) <= 1_200 && sentMs(1) > 700, `${sentMs(1)} ms`);
    assert.equal(await codeOf(peer.get({ group: "g", key: "k" })), "INTERNAL");
    // grpc-timeout holds at most 8 digits: a longer deadline is cut to what a peer can read.
    await codeOf(peer.get({ group: "g", key: "k" }, { timeoutMs: 2 ** 31 - 1 }));
    assert.equal(seen[3]?.["grpc-timeout"], "99999999m");
  });

  test("a peer that goes away fails UNAVAILABLE, and the client reconnects when it is back", async () => {
    const registry = createRegistry();
    registry.newGroup({ name: "g", maxBytes: 1 << 20, getter: (key: string) => `v-${key}` });
    const first = await startCacheServer({ registry, port: 0 });
    const { port } = first.address;
    const peer = createPeerClient(`127.0.0.1:${port}`, { timeoutMs: 60_000 });
    assert.equal(new TextDecoder().decode((await peer.get({ group: "g", key: "a" })).value), "v-a");
    assert.equal(await codeOf(peer.probe()), "resolved");
    await first.close({ graceMs: 0 });
    const started = performance.now();
    assert.equal(await codeOf(peer.get({ group: "g", key: "b" })), "UNAVAILABLE");
    assert.ok(performance.now() - started < 5_000, "no waiting out the deadline");
    assert.equal(await codeOf(peer.probe()), "UNAVAILABLE");
    const second = await startCacheServer({ registry, port });
    assert.equal(await codeOf(peer.probe()), "resolved");
    assert.equal(new TextDecoder().decode((await peer.get({ group: "g", key: "c" })).value), "v-c");
    await peer.close();
    await second.close();
  });

  test("rejects bad options", () => {
    // Node runs a timer outside (0, 2^31-1] ms after 1 ms: every call would miss its deadline.
    const bad = [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 1e10, 2 ** 31];
    for (const name of ["timeoutMs", "idleConnectionTimeoutMs", "pingIntervalMs"] as const) {
      for (const value of bad) {
        assert.throws(() => createPeerClient("127.0.0.1:1", { [name]: value }), {
          name: "RangeError",
          message: new RegExp(`^${name} must be .*, got ${String(value)}$`),
        });
      }
      assert.throws(() => createPeerClient("127.0.0.1:1", { [name]: "100" as unknown as number }), {
        name: "TypeError",
        message: new RegExp(`^${name} must be a number`),
      });
    }
    for (const address of ["not an address", "host:99999", "[::1"]) {
      assert.throws(() => createPeerClient(address), {
        name: "TypeError",
        message: `peer address must be "host:port", got ${JSON.stringify(address)}`,
      });
    }
    const longest = 2 ** 31 - 1;
    const peer = createPeerClient("127.0.0.1:1", {
      timeoutMs: longest,
      idleConnectionTimeoutMs: longest,
      pingIntervalMs: longest,
    });
    return peer.close();
  });
});

describe("createPeerClient against a real node", () => {
  let release!: () => void;
  let sessions = 0;
  let server: http2.Http2Server;
  let address: string;
  const registry = createRegistry();

  before(async () => {
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    registry.newGroup({
      name: "g",
      maxBytes: 1 << 20,
      getter: async (key: string) => {
        if (key.startsWith("slow")) await gate;
        return `v-${key}`;
      },
    });
    // A bare HTTP/2 server, so the test can count the connections the client opens.
    server = http2.createServer(connectNodeAdapter({ routes: createCacheService(registry) }));
    server.on("session", () => sessions++);
    address = `127.0.0.1:${await listen(server)}`;
  });
  after(async () => {
    release();
    server.close();
  });

  test("reuses one pooled HTTP/2 connection for every call", async () => {
    const peer = createPeerClient(address);
    const before = sessions;
    const values = await Promise.all(
      Array.from({ length: 20 }, (_, i) => peer.get({ group: "g", key: `k${i}` })),
    );
    for (let i = 0; i < 20; i++) {
      assert.equal(new TextDecoder().decode(values[i]?.value), `v-k${i}`);
    }
    await peer.get({ group: "g", key: "again" });
    assert.equal(sessions - before, 1);
    await peer.close();
  });

  test("cacheOnly is answered from the node's cache: a miss is NOT_FOUND and loads nothing", async () => {
    const peer = createPeerClient(address);
    const loadsBefore = registry.stats().g!.localLoads;
    assert.equal(
      await codeOf(peer.get({ group: "g", key: "co-1" }, { cacheOnly: true })),
      "NOT_FOUND",
    );
    assert.equal(registry.stats().g!.localLoads, loadsBefore);
    await peer.get({ group: "g", key: "co-1" });
    const got = await peer.get({ group: "g", key: "co-1" }, { cacheOnly: true });
    assert.equal(new TextDecoder().decode(got.value), "v-co-1");
    assert.equal(registry.stats().g!.localLoads, loadsBefore + 1);
    await peer.close();
  });

  test("an aborted signal rejects CANCELED without waiting", async () => {
    const peer = createPeerClient(address, { timeoutMs: 60_000 });
    const controller = new AbortController();
    const call = codeOf(peer.get({ group: "g", key: "slow-1" }, { signal: controller.signal }));
    controller.abort();
    assert.equal(await call, "CANCELED");
    await peer.close();
  });

  test("a call with a bad timeoutMs rejects INVALID_ARGUMENT; the client stays usable", async () => {
    const peer = createPeerClient(address, { timeoutMs: 60_000 });
    const bad = [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, "50" as unknown as number];
    for (const timeoutMs of bad) {
      const calls = {
        get: () => peer.get({ group: "g", key: "k" }, { timeoutMs }),
        stats: () => peer.stats({ timeoutMs }),
        probe: () => peer.probe({ timeoutMs }),
      };
      for (const [method, call] of Object.entries(calls)) {
        await assert.rejects(call, (err: unknown) => {
          assert.ok(err instanceof GeeCacheError, `${method}: a GeeCacheError, got ${String(err)}`);
          assert.equal(err.code, "INVALID_ARGUMENT", `${method}(${String(timeoutMs)})`);
          assert.match(err.message, /timeoutMs must be/);
          return true;
        });
      }
    }
    // The longest deadline is accepted, and the peer can read it from grpc-timeout.
    const longest = 2 ** 31 - 1;
    const { value } = await peer.get({ group: "g", key: "ok" }, { timeoutMs: longest });
    assert.equal(new TextDecoder().decode(value), "v-ok");
    assert.equal((await peer.stats({ timeoutMs: longest })).nodeId, "");
    await peer.close();
  });

  test("close({ graceMs: 0 }) fails calls in flight and later calls with UNAVAILABLE", async () => {
    const peer = createPeerClient(address, { timeoutMs: 60_000 });
    await peer.get({ group: "g", key: "warm" }); // connection open
    const inFlight = codeOf(peer.get({ group: "g", key: "slow-2" }));
    await new Promise((resolve) => setImmediate(resolve));
    await peer.close({ graceMs: 0 });
    assert.equal(await inFlight, "UNAVAILABLE");
    assert.equal(await codeOf(peer.get({ group: "g", key: "k" })), "UNAVAILABLE");
  });
});

// A close that never ends would hang the run: each test fails after 10 s instead.
describe("closing a PeerClient with calls in flight (a peer leaving the ring)", {
  timeout: 10_000,
}, () => {
  // Each slow key waits for its own gate, so each test decides when its call is answered.
  const gates = new Map<string, () => Promise<void>>();
  let server: http2.Http2Server;
  let address: string;
  // The server's side of every connection a client opened, in order.
  const sessions: http2.ServerHttp2Session[] = [];

  // slow(key) makes the getter of key wait until release is called; reached resolves once the
  // call is at the getter, so it is surely in flight.
  function slow(key: string): { release: () => void; reached: Promise<void> } {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let arrive!: () => void;
    const reached = new Promise<void>((resolve) => {
      arrive = resolve;
    });
    gates.set(key, () => {
      arrive();
      return gate;
    });
    return { release, reached };
  }

  function sessionClosed(session: http2.ServerHttp2Session): Promise<void> {
    return session.closed || session.destroyed
      ? Promise.resolve()
      : new Promise((resolve) => session.once("close", () => resolve()));
  }

  before(async () => {
    const registry = createRegistry();
    registry.newGroup({
      name: "g",
      maxBytes: 1 << 20,
      getter: async (key: string) => {
        await gates.get(key)?.();
        return `v-${key}`;
      },
    });
    server = http2.createServer(connectNodeAdapter({ routes: createCacheService(registry) }));
    server.on("session", (session) => sessions.push(session));
    address = `127.0.0.1:${await listen(server)}`;
  });
  after(async () => {
    for (const session of sessions) session.destroy();
    await close(server);
  });

  test("a peer removed by setPeers finishes the call in flight, then its connection closes", async () => {
    const picker = createConnectPeerPicker({ timeoutMs: 10_000, breaker: false });
    picker.setPeers([address]);
    const peer = picker.pickPeer("k")!;
    const opened = sessions.length;
    const { release, reached } = slow("leaving-1");
    const call = peer.get({ group: "g", key: "leaving-1" });
    await reached;
    const session = sessions[opened]!;
    picker.setPeers([]); // the node deregistered while our call was in flight
    assert.equal(picker.pickPeer("k"), undefined);
    // No new calls on the removed peer...
    assert.equal(await codeOf(peer.get({ group: "g", key: "k" })), "UNAVAILABLE");
    // ...but the one in flight is answered.
    release();
    assert.equal(new TextDecoder().decode((await call).value), "v-leaving-1");
    // Then the connection is closed, with no call left to hold it.
    await sessionClosed(session);
    assert.equal(sessions.length, opened + 1, "no connection opened for the refused call");
    await picker.close();
  });

  test("close() waits for calls in flight, then closes the connection and resolves", async () => {
    const peer = createPeerClient(address, { timeoutMs: 10_000 });
    const opened = sessions.length;
    const a = slow("leaving-2");
    const b = slow("leaving-3");
    const first = peer.get({ group: "g", key: "leaving-2" });
    const second = peer.get({ group: "g", key: "leaving-3" });
    await a.reached;
    await b.reached;
    const session = sessions[opened]!;
    let closed = false;
    const closing = peer.close().then(() => {
      closed = true;
    });
    a.release();
    assert.equal(new TextDecoder().decode((await first).value), "v-leaving-2");
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(closed, false, "one call is still in flight");
    assert.equal(session.destroyed || session.closed, false);
    b.release();
    assert.equal(new TextDecoder().decode((await second).value), "v-leaving-3");
    await closing;
    await sessionClosed(session);
    // Closing again is the same, finished close.
    await peer.close({ graceMs: 0 });
  });

  test("during close a call still fails on its own deadline or signal, and the close ends then", async () => {
    const peer = createPeerClient(address, { timeoutMs: 10_000 });
    const opened = sessions.length;
    const a = slow("leaving-4");
    const b = slow("leaving-5");
    const controller = new AbortController();
    const timedOut = codeOf(peer.get({ group: "g", key: "leaving-4" }, { timeoutMs: 200 }));
    const aborted = codeOf(
      peer.get({ group: "g", key: "leaving-5" }, { signal: controller.signal }),
    );
    await a.reached;
    await b.reached;
    const closing = peer.close();
    controller.abort();
    assert.equal(await aborted, "CANCELED");
    assert.equal(await timedOut, "DEADLINE_EXCEEDED");
    await closing;
    await sessionClosed(sessions[opened]!);
    a.release();
    b.release();
  });

  test("close({ graceMs }) bounds the wait: calls still open then fail UNAVAILABLE", async () => {
    const peer = createPeerClient(address, { timeoutMs: 10_000 });
    const opened = sessions.length;
    const a = slow("leaving-6");
    const call = codeOf(peer.get({ group: "g", key: "leaving-6" }));
    await a.reached;
    const started = performance.now();
    const closing = peer.close(); // no bound...
    await peer.close({ graceMs: 100 }); // ...until this one
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 90 && elapsed < 5_000, `closed after the grace (${elapsed} ms)`);
    await closing;
    assert.equal(await call, "UNAVAILABLE");
    await sessionClosed(sessions[opened]!);
    a.release();
  });

  test("close rejects a bad graceMs and stays open", async () => {
    const peer = createPeerClient(address);
    for (const graceMs of [-1, Number.NaN, 2 ** 31]) {
      await assert.rejects(peer.close({ graceMs }), {
        name: "RangeError",
        message: /^graceMs must be/,
      });
    }
    await assert.rejects(peer.close({ graceMs: "5" as unknown as number }), { name: "TypeError" });
    assert.equal(new TextDecoder().decode((await peer.get({ group: "g", key: "k" })).value), "v-k");
    await peer.close();
  });
});

describe("a peer client under a burst of calls that run out of time, and when it closes", () => {
  /** A group whose keys but "fast" take 1.5 s to load (less if the load is aborted). */
  function slowRegistry() {
    const registry = createRegistry();
    registry.newGroup({
      name: "g",
      maxBytes: 1 << 20,
      getter: async (key, { signal }) => {
        if (key !== "fast") {
          await new Promise((resolve) => {
            const t = setTimeout(resolve, 1_500);
            signal.addEventListener("abort", () => clearTimeout(t));
          });
        }
        return "v";
      },
    });
    return registry;
  }

  // Four times the server's stream limit, all out of time at once. Each such call used to be
  // reset on its own; the resets of the calls queued past the limit came as a burst, and the
  // server dropped the connection (ENHANCE_YOUR_CALM), failing every call on it. A call ends
  // by the client's own deadline, or (as the gateway and core end theirs) by the caller's
  // timed-out signal, armed before the client's timer of the same length so it fires first.
  const endings: [string, () => { signal: AbortSignal } | undefined, string][] = [
    ["its own deadline", () => undefined, "DEADLINE_EXCEEDED"],
    ["the caller's timed-out signal", () => ({ signal: AbortSignal.timeout(300) }), "CANCELED"],
  ];
  for (const [ending, callOptions, code] of endings) {
    test(`a burst ended by ${ending} keeps the connection: the next calls are answered`, async () => {
      const server = await startCacheServer({ registry: slowRegistry(), port: 0 });
      const client = createPeerClient(`127.0.0.1:${server.address.port}`, { timeoutMs: 300 });
      try {
        await client.get({ group: "g", key: "fast" });
        const codes = await Promise.all(
          Array.from({ length: 1_024 }, (_, i) =>
            client.get({ group: "g", key: `slow-${i}` }, callOptions()).then(
              () => "ok",
              (e: unknown) => (e as GeeCacheError).code,
            ),
          ),
        );
        assert.deepEqual(new Set(codes), new Set([code]));
        // The same connection answers (it may first finish the calls the server is ending).
        const after = await Promise.all(
          Array.from({ length: 100 }, () =>
            client.get({ group: "g", key: "fast" }, { timeoutMs: 5_000 }),
          ),
        );
        assert.equal(after.length, 100);
      } finally {
        await client.close();
        await server.close({ graceMs: 100 });
      }
    });
  }

  test("calls still waiting for a stream when the client closes fail then, and open no connection", async () => {
    const server = await startCacheServer({
      registry: slowRegistry(),
      port: 0,
      maxConcurrentStreams: 2,
    });
    const client = createPeerClient(`127.0.0.1:${server.address.port}`, { timeoutMs: 10_000 });
    try {
      // Two calls, so the client has learnt the server's limit: the slow calls past it wait.
      await client.get({ group: "g", key: "fast" });
      await client.get({ group: "g", key: "fast" });
      const started = performance.now();
      const outcomes = Array.from({ length: 6 }, (_, i) =>
        client.get({ group: "g", key: `slow-${i}` }).then(
          () => "ok",
          (e: unknown) => (e as GeeCacheError).code,
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      await client.close({ graceMs: 100 });
      assert.deepEqual(await Promise.all(outcomes), Array(6).fill("UNAVAILABLE"));
      // Well before the getter's 1.5 s: no call went on over a new connection.
      assert.ok(performance.now() - started < 1_000, `${performance.now() - started} ms`);
    } finally {
      await server.close({ graceMs: 0 });
    }
  });
});

describe("the peer client's session manager", () => {
  test("a call right after a GOAWAY on an idle connection does not end the process (connect-es#1768)", async () => {
    const server = await startCacheServer({ registry: createRegistry(), port: 0 });
    const manager = new GuardedSessionManager(`http://127.0.0.1:${server.address.port}`);
    const check = async () => {
      const stream = await manager.request("POST", "/grpc.health.v1.Health/Check", grpc, {});
      stream.on("error", () => {});
      stream.end(new Uint8Array(5)); // an empty HealthCheckRequest
      stream.resume();
      return stream;
    };
    try {
      const first = await check();
      const session = first.session!;
      await new Promise((resolve) => first.on("close", resolve));
      // The server's GOAWAY finds no open stream, so the manager destroys the session with an
      // error that Node emits when the socket has closed. A call made before then moves the
      // manager to a new connection; without the guard, that error went unheard and crashed.
      const calledAfterGoaway = new Promise<void>((resolve) =>
        session.once("goaway", () => {
          void check().then(() => resolve(), resolve);
        }),
      );
      const closed = new Promise((resolve) => session.once("close", resolve));
      await server.close({ graceMs: 500 });
      await calledAfterGoaway;
      await closed;
    } finally {
      manager.abort();
    }
  });
});

const grpc = { "content-type": "application/grpc", te: "trailers" };
