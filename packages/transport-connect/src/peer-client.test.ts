import assert from "node:assert/strict";
import * as http2 from "node:http2";
import * as net from "node:net";
import { after, before, describe, test } from "node:test";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createRegistry, GeeCacheError } from "@geecache/core";
import { createCacheService } from "./cache-service.ts";
import { createPeerClient } from "./peer-client.ts";
import { startCacheServer } from "./server.ts";

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

  test("sends its deadline as grpc-timeout; answers that are not gRPC fail UNAVAILABLE or INTERNAL", async () => {
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
    assert.equal(await codeOf(peer.get({ group: "g", key: "k" })), "UNAVAILABLE");
    assert.equal(seen[0]?.["grpc-timeout"], "1500m");
    assert.equal(seen[0]?.["content-type"], "application/grpc+proto");
    assert.equal(seen[0]?.[":path"], "/geecache.v1.CacheService/Get");
    assert.equal(
      // Long enough that a loaded machine still sees the answer, not the deadline.
      await codeOf(peer.get({ group: "g", key: "k" }, { timeoutMs: 1_200 })),
      "UNAVAILABLE",
    );
    assert.equal(seen[1]?.["grpc-timeout"], "1200m");
    assert.equal(await codeOf(peer.get({ group: "g", key: "k" })), "INTERNAL");
    // grpc-timeout holds at most 8 digits: a longer deadline is cut to what a peer can read.
    await codeOf(peer.get({ group: "g", key: "k" }, { timeoutMs: 2 ** 31 - 1 }));
    assert.equal(seen[3]?.["grpc-timeout"], "99999999m");
    await peer.close();
    await close(plain);
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

  before(async () => {
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const registry = createRegistry();
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

  test("close() fails calls in flight and later calls with UNAVAILABLE", async () => {
    const peer = createPeerClient(address, { timeoutMs: 60_000 });
    await peer.get({ group: "g", key: "warm" }); // connection open
    const inFlight = codeOf(peer.get({ group: "g", key: "slow-2" }));
    await new Promise((resolve) => setImmediate(resolve));
    await peer.close();
    assert.equal(await inFlight, "UNAVAILABLE");
    assert.equal(await codeOf(peer.get({ group: "g", key: "k" })), "UNAVAILABLE");
  });
});
