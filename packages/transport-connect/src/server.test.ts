import assert from "node:assert/strict";
import { once } from "node:events";
import * as http2 from "node:http2";
import * as net from "node:net";
import { after, before, describe, mock, test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, type ConnectError, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { createRegistry, GeeCacheError, type Registry } from "@geecache/core";
import { CacheService, GetRequestSchema } from "@geecache/proto";
import { Health, HealthCheckResponse_ServingStatus } from "@geecache/proto/health";
import { createPeerClient } from "./peer-client.ts";
import { type CacheServer, type CacheServerOptions, startCacheServer } from "./server.ts";

const table: Record<string, string> = { Tom: "630", Jack: "589", Sam: "567", Emoji: "🍣" };

function demoRegistry(): { registry: Registry; loads: string[] } {
  const loads: string[] = [];
  const registry = createRegistry();
  registry.newGroup({
    name: "scores",
    maxBytes: 1 << 20,
    getter: (key: string) => {
      loads.push(key);
      if (key === "Broken") throw new Error("database on fire");
      if (key === "Ttl") return { value: "soon", ttlMs: 60_000 };
      return table[key] ?? null;
    },
  });
  return { registry, loads };
}

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const getPath = "/geecache.v1.CacheService/Get";

/** getFrame is a gRPC message frame (uncompressed) of a GetRequest, for raw HTTP/2 calls. */
function getFrame(group: string, key: string): Uint8Array {
  const bytes = toBinary(GetRequestSchema, create(GetRequestSchema, { group, key }));
  const frame = new Uint8Array(5 + bytes.length);
  new DataView(frame.buffer).setUint32(1, bytes.length);
  frame.set(bytes, 5);
  return frame;
}

/** Sends text on a new connection and returns all it gets back. */
function rawHttp(port: number, text: string, end = true): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () =>
      end ? socket.end(text) : socket.write(text),
    );
    let reply = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      reply += chunk;
    });
    socket.on("end", () => resolve(reply));
    socket.on("error", reject);
  });
}

describe("startCacheServer: one port, every protocol", () => {
  let server: CacheServer;
  let base: string;
  let address: string;

  before(async () => {
    server = await startCacheServer({
      registry: demoRegistry().registry,
      port: 0,
      http: (req, res) => {
        if (req.url !== "/healthz") return false;
        res.writeHead(200, { "content-type": "text/plain" }).end("ok");
        return true;
      },
    });
    address = `127.0.0.1:${server.address.port}`;
    base = `http://${address}`;
  });
  after(() => server.close({ graceMs: 1_000 }));

  test("Get over gRPC (h2c) through the peer client", async () => {
    const peer = createPeerClient(address);
    try {
      const response = await peer.get({ group: "scores", key: "Tom" });
      assert.equal(decode(response.value), "630");
      assert.equal(response.expiresAtMs, undefined);
      const emoji = await peer.get({ group: "scores", key: "Emoji" });
      assert.equal(decode(emoji.value), "🍣");
      const ttl = await peer.get({ group: "scores", key: "Ttl" });
      assert.ok(ttl.expiresAtMs !== undefined && ttl.expiresAtMs > Date.now());
    } finally {
      await peer.close();
    }
  });

  test("Get over the Connect protocol with plain fetch (HTTP/1.1, JSON)", async () => {
    const res = await fetch(base + getPath, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ group: "scores", key: "Jack" }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { value: Buffer.from("589").toString("base64") });
  });

  test("Get over Connect GET (message in the query)", async () => {
    const message = encodeURIComponent(JSON.stringify({ group: "scores", key: "Sam" }));
    const res = await fetch(`${base}${getPath}?connect=v1&encoding=json&message=${message}`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { value: Buffer.from("567").toString("base64") });
  });

  test("Get over binary Connect on h2c, Connect GET and gRPC-Web on HTTP/1.1", async () => {
    const h2 = createClient(
      CacheService,
      createConnectTransport({ baseUrl: base, httpVersion: "2", useBinaryFormat: true }),
    );
    assert.equal(decode((await h2.get({ group: "scores", key: "Tom" })).value), "630");
    const h1Get = createClient(
      CacheService,
      createConnectTransport({ baseUrl: base, httpVersion: "1.1", useHttpGet: true }),
    );
    assert.equal(decode((await h1Get.get({ group: "scores", key: "Jack" })).value), "589");
    const grpcWeb = createClient(
      CacheService,
      createGrpcWebTransport({ baseUrl: base, httpVersion: "1.1" }),
    );
    assert.equal(decode((await grpcWeb.get({ group: "scores", key: "Sam" })).value), "567");
  });

  test("grpc.health.v1.Health reports SERVING for the server and the cache service", async () => {
    const health = createClient(Health, createGrpcTransport({ baseUrl: base }));
    for (const service of ["", "geecache.v1.CacheService"]) {
      const { status } = await health.check({ service });
      assert.equal(status, HealthCheckResponse_ServingStatus.SERVING);
    }
    await assert.rejects(health.check({ service: "nope.v1.Nope" }), (err: ConnectError) => {
      assert.equal(err.code, Code.NotFound);
      return true;
    });
  });

  test("a Host or :authority that is missing or not a URL authority is served, not fatal", async () => {
    const body = JSON.stringify({ group: "scores", key: "Tom" });
    const expected = JSON.stringify({ value: Buffer.from("630").toString("base64") });
    // Raw HTTP/1.x, since fetch always sends a good Host: an unbracketed IPv6 address, one that
    // is not an authority at all, and HTTP/1.0 with none.
    for (const [version, host] of [
      ["1.1", "::1:80"],
      ["1.1", "not a host"],
      ["1.0", undefined],
    ] as const) {
      const reply = await rawHttp(
        server.address.port,
        `POST ${getPath} HTTP/${version}\r\n${host === undefined ? "" : `Host: ${host}\r\n`}` +
          `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
          `Connection: close\r\n\r\n${body}`,
      );
      assert.match(reply, /^HTTP\/1\.[01] 200 /, `Host ${host}`);
      assert.ok(reply.endsWith(expected), reply);
    }
    const session = http2.connect(base);
    try {
      // nghttp2 itself refuses an :authority that is not a host, so only the IPv6 case here.
      for (const authority of ["::1:80"]) {
        const stream = session.request({
          ":method": "POST",
          ":path": getPath,
          ":authority": authority,
          "content-type": "application/json",
        });
        stream.end(body);
        const [status, text] = await new Promise<[unknown, string]>((resolve, reject) => {
          let status: unknown;
          let text = "";
          stream.on("response", (headers) => {
            status = headers[":status"];
          });
          stream.setEncoding("utf8");
          stream.on("data", (chunk: string) => {
            text += chunk;
          });
          stream.on("end", () => resolve([status, text]));
          stream.on("error", reject);
        });
        assert.equal(status, 200, `:authority ${authority}`);
        assert.equal(text, expected);
      }
    } finally {
      session.close();
    }
  });

  test("extra HTTP/1.1 routes are served before the RPC handler", async () => {
    const res = await fetch(`${base}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "ok");
  });

  test("Stats reports the node id and the group's counters", async () => {
    const peer = createPeerClient(address);
    try {
      const stats = await peer.stats();
      assert.equal(stats.nodeId, address);
      assert.ok(stats.groups.scores, "scores group present");
      assert.equal(typeof stats.groups.scores.gets, "number");
    } finally {
      await peer.close();
    }
  });

  describe("errors keep their GeeCache code across gRPC", () => {
    const cases: { name: string; group: string; key: string; code: string }[] = [
      { name: "not found at the source", group: "scores", key: "Nobody", code: "NOT_FOUND" },
      { name: "unknown group", group: "nope", key: "Tom", code: "UNKNOWN_GROUP" },
      { name: "empty key", group: "scores", key: "", code: "INVALID_ARGUMENT" },
      { name: "huge key", group: "scores", key: "k".repeat(10_000), code: "INVALID_ARGUMENT" },
      { name: "getter failure", group: "scores", key: "Broken", code: "LOAD_FAILED" },
    ];
    for (const c of cases) {
      test(c.name, async () => {
        const peer = createPeerClient(address);
        try {
          await assert.rejects(peer.get({ group: c.group, key: c.key }), (err: unknown) => {
            assert.ok(err instanceof GeeCacheError);
            assert.equal(err.code, c.code);
            assert.doesNotMatch(err.message, /database on fire/, "no internals leak");
            return true;
          });
        } finally {
          await peer.close();
        }
      });
    }
  });

  describe("bad input gets a clear Connect error and the server stays up", () => {
    const post = (path: string, contentType: string, body: string) =>
      fetch(base + path, { method: "POST", headers: { "content-type": contentType }, body });
    const cases: { name: string; send: () => Promise<Response>; status: number; code?: string }[] =
      [
        {
          name: "malformed JSON",
          send: () => post(getPath, "application/json", "{not json"),
          status: 400,
          code: "invalid_argument",
        },
        {
          name: "wrong content type",
          send: () => post(getPath, "text/plain", "{}"),
          status: 415,
        },
        {
          name: "unknown method",
          send: () => post("/geecache.v1.CacheService/Nope", "application/json", "{}"),
          status: 404,
          code: "unimplemented",
        },
        {
          name: "request over readMaxBytes",
          send: () =>
            post(getPath, "application/json", JSON.stringify({ group: "s", key: "k".repeat(1e5) })),
          status: 429,
          code: "resource_exhausted",
        },
        {
          name: "unknown group over Connect JSON",
          send: () => post(getPath, "application/json", '{"group":"nope","key":"Tom"}'),
          status: 404,
          code: "not_found",
        },
        {
          name: "empty key over Connect JSON",
          send: () => post(getPath, "application/json", '{"group":"scores"}'),
          status: 400,
          code: "invalid_argument",
        },
      ];
    for (const c of cases) {
      test(c.name, async () => {
        const res = await c.send();
        assert.equal(res.status, c.status);
        if (c.code !== undefined) {
          const body = (await res.json()) as { code: string; message: string };
          assert.equal(body.code, c.code);
          assert.ok(body.message.length > 0);
        }
        const ok = await fetch(`${base}/healthz`);
        assert.equal(ok.status, 200, "server still up");
      });
    }

    test("unknown group and not found are told apart by the geecache-error-code header", async () => {
      const res = await post(getPath, "application/json", '{"group":"nope","key":"Tom"}');
      assert.equal(res.headers.get("geecache-error-code"), "UNKNOWN_GROUP");
      const res2 = await post(getPath, "application/json", '{"group":"scores","key":"Nobody"}');
      assert.equal(res2.status, 404);
      assert.equal(res2.headers.get("geecache-error-code"), "NOT_FOUND");
    });

    test("garbage on the port is dropped without taking the server down", async () => {
      const session = http2.connect(base);
      session.on("error", () => undefined);
      const stream = session.request({ ":path": getPath, ":method": "POST" });
      stream.on("error", () => undefined);
      stream.end(Buffer.from([0xff, 0xff, 0xff]));
      await new Promise((resolve) => stream.on("close", resolve));
      session.destroy();
      const ok = await fetch(`${base}/healthz`);
      assert.equal(ok.status, 200);
    });
  });
});

// A registry whose getter waits for release(), so a test can hold calls in flight.
function gatedRegistry() {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const waiting: Array<() => void> = [];
  let started = 0;
  const startedCount = (n: number) =>
    new Promise<void>((resolve) => {
      if (started >= n) resolve();
      else waiting.push(() => started >= n && resolve());
    });
  const registry = createRegistry();
  registry.newGroup({
    name: "slow",
    maxBytes: 1 << 20,
    getter: async (key: string, ctx: { signal: AbortSignal }) => {
      started++;
      for (const wake of waiting) wake();
      await new Promise<void>((resolve, reject) => {
        gate.then(resolve);
        ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason));
      });
      return `v-${key}`;
    },
  });
  return { registry, release, startedCount };
}

describe("clients that would hold or break a node", { timeout: 10_000 }, () => {
  /** Runs body with a server made with options (the demo registry unless given) and a raw HTTP/2 session to it. */
  async function withSession(
    options: Partial<CacheServerOptions>,
    body: (session: http2.ClientHttp2Session, port: number) => Promise<void>,
  ): Promise<void> {
    const server = await startCacheServer({
      registry: demoRegistry().registry,
      port: 0,
      ...options,
    });
    const session = http2.connect(`http://127.0.0.1:${server.address.port}`);
    try {
      await body(session, server.address.port);
    } finally {
      session.destroy();
      await server.close({ graceMs: 1_000 });
    }
  }

  /** Opens a gRPC stream on session that sends body and never ends; resolves when and how it closed. */
  function stalledStream(
    session: http2.ClientHttp2Session,
    headers: http2.OutgoingHttpHeaders,
    body: Uint8Array,
  ): Promise<{ afterMs: number; rstCode: number }> {
    const stream = session.request({
      ":method": "POST",
      ":path": getPath,
      ...grpcHeaders,
      ...headers,
    });
    stream.write(body);
    const started = performance.now();
    return new Promise((resolve) => {
      stream.on("error", () => undefined);
      stream.resume();
      stream.on("close", () =>
        resolve({ afterMs: performance.now() - started, rstCode: stream.rstCode ?? 0 }),
      );
    });
  }
  const grpcHeaders = { "content-type": "application/grpc", te: "trailers" };

  test("each HTTP/2 connection gets maxConcurrentStreams streams; a peer past it queues", async () => {
    const registry = createRegistry();
    registry.newGroup({
      name: "slow",
      maxBytes: 1 << 20,
      getter: async (key: string) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return `v-${key}`;
      },
    });
    await withSession({ registry, maxConcurrentStreams: 2 }, async (session, port) => {
      const settings = await new Promise<http2.Settings>((resolve) =>
        session.once("remoteSettings", resolve),
      );
      assert.equal(settings.maxConcurrentStreams, 2);
      // A new client of its own: its first calls go out before it knows the limit.
      const peer = createPeerClient(`127.0.0.1:${port}`);
      try {
        const keys = ["a", "b", "c", "d", "e", "f"];
        const values = await Promise.all(keys.map((key) => peer.get({ group: "slow", key })));
        assert.deepEqual(
          values.map((v) => decode(v.value)),
          keys.map((k) => `v-${k}`),
        );
      } finally {
        await peer.close();
      }
    });
  });

  test("a request body that never completes is cut off at the call's deadline", async () => {
    await withSession({ maxTimeoutMs: 600 }, async (session, port) => {
      // Three bytes of a five-byte envelope header, and no end: with a deadline, and without
      // one (then maxTimeoutMs).
      const partial = Uint8Array.of(0, 0, 0);
      const withDeadline = stalledStream(session, { "grpc-timeout": "200m" }, partial);
      const without = stalledStream(session, {}, partial);
      for (const [closed, deadline] of [
        [withDeadline, 200],
        [without, 600],
      ] as const) {
        const { afterMs, rstCode } = await closed;
        assert.equal(rstCode, http2.constants.NGHTTP2_CANCEL);
        assert.ok(afterMs >= deadline && afterMs < deadline + 3_000, `closed after ${afterMs} ms`);
      }
      // The same over HTTP/1.1: a Content-Length the body never reaches.
      const started = performance.now();
      const reply = await rawHttp(
        port,
        `POST ${getPath} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
          "Connect-Timeout-Ms: 200\r\nContent-Length: 100\r\n\r\n{",
        false,
      );
      assert.match(reply, /^HTTP\/1\.1 408 /);
      assert.match(reply, /\{"code":"deadline_exceeded",/);
      assert.ok(performance.now() - started < 3_000);
    });
  });

  test("an idle HTTP/2 connection is closed after idleTimeoutMs", async () => {
    await withSession({ idleTimeoutMs: 200 }, async (session) => {
      const started = performance.now();
      await new Promise((resolve) => session.once("goaway", resolve));
      assert.ok(performance.now() - started < 3_000);
    });
  });

  test("a deadline longer than Node's timers is refused without a TimeoutOverflowWarning", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on("warning", onWarning);
    try {
      await withSession({}, async (session, port) => {
        const envelope = getFrame("scores", "Tom");
        for (const timeout of ["99999999H", "2147484S"]) {
          const stream = session.request({
            ":method": "POST",
            ":path": getPath,
            ...grpcHeaders,
            "grpc-timeout": timeout,
          });
          stream.end(envelope);
          stream.resume();
          const [trailers] = (await once(stream, "trailers")) as [http2.IncomingHttpHeaders];
          assert.equal(trailers["grpc-status"], String(Code.InvalidArgument), timeout);
        }
        for (const timeout of ["9999999999", "2147483648"]) {
          const res = await fetch(`http://127.0.0.1:${port}${getPath}`, {
            method: "POST",
            headers: { "content-type": "application/json", "connect-timeout-ms": timeout },
            body: JSON.stringify({ group: "scores", key: "Tom" }),
          });
          assert.equal(res.status, 400, timeout);
          assert.equal(((await res.json()) as { code: string }).code, "invalid_argument");
        }
      });
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(warnings, []);
    } finally {
      process.off("warning", onWarning);
    }
  });

  test("a client that cancels mid-response is logged at debug, not printed to the console", async () => {
    const registry = createRegistry();
    registry.newGroup({ name: "big", maxBytes: 8 << 20, getter: () => "x".repeat(1 << 20) });
    const records: { level: string; msg: string | undefined }[] = [];
    const log = (level: string) => (_obj: object, msg?: string) => records.push({ level, msg });
    const logger = {
      debug: log("debug"),
      info: log("info"),
      warn: log("warn"),
      error: log("error"),
    };
    const consoleError = mock.method(console, "error", () => undefined);
    try {
      await withSession({ registry, logger }, async (session) => {
        const envelope = getFrame("big", "k");
        const stream = session.request({ ":method": "POST", ":path": getPath, ...grpcHeaders });
        stream.end(envelope);
        stream.on("error", () => undefined);
        await new Promise<void>((resolve) =>
          stream.once("data", () => {
            stream.close(http2.constants.NGHTTP2_CANCEL);
            resolve();
          }),
        );
        await new Promise((resolve) => setTimeout(resolve, 300));
      });
      assert.equal(consoleError.mock.callCount(), 0);
      assert.deepEqual(
        records.filter((r) => r.level !== "debug"),
        [],
      );
    } finally {
      consoleError.mock.restore();
    }
  });
});

describe("IPv6", () => {
  test("a peer client calls a server listening on ::1", async () => {
    const server = await startCacheServer({
      registry: demoRegistry().registry,
      host: "::1",
      port: 0,
    });
    const peer = createPeerClient(`[::1]:${server.address.port}`);
    try {
      // Node's HTTP/2 client sends this call's :authority without brackets.
      assert.equal(decode((await peer.get({ group: "scores", key: "Tom" })).value), "630");
      assert.equal((await peer.stats()).nodeId, `[::1]:${server.address.port}`);
    } finally {
      await peer.close();
      await server.close({ graceMs: 1_000 });
    }
  });
});

describe("CacheServer.close", () => {
  test("drains in-flight gRPC and HTTP/1.1 calls, refuses new connections", async () => {
    const { registry, release, startedCount } = gatedRegistry();
    const server = await startCacheServer({ registry, port: 0 });
    const base = `http://127.0.0.1:${server.address.port}`;
    const peer = createPeerClient(`127.0.0.1:${server.address.port}`, { timeoutMs: 10_000 });
    const h1 = createClient(
      CacheService,
      createConnectTransport({ baseUrl: base, httpVersion: "1.1" }),
    );
    const health = createClient(Health, createGrpcTransport({ baseUrl: base }));
    const watch = health.watch({ service: "" })[Symbol.asyncIterator]();
    assert.equal((await watch.next()).value?.status, HealthCheckResponse_ServingStatus.SERVING);

    const viaGrpc = peer.get({ group: "slow", key: "a" });
    const viaH1 = h1.get({ group: "slow", key: "b" });
    await startedCount(2);

    let closed = false;
    const closing = server.close({ graceMs: 10_000 }).then(() => {
      closed = true;
    });
    assert.equal(
      (await watch.next()).value?.status,
      HealthCheckResponse_ServingStatus.NOT_SERVING,
      "watchers see NOT_SERVING when the drain starts",
    );
    await assert.rejects(fetch(`${base}/x`), /fetch failed/, "new connections are refused");
    assert.equal(closed, false, "close waits for the calls in flight");

    release();
    assert.equal(decode((await viaGrpc).value), "v-a");
    assert.equal(decode((await viaH1).value), "v-b");
    await closing;
    assert.equal((await watch.next()).done, true, "the drain ends health watches");
    await peer.close();
  });

  test("cancels calls still running after graceMs; peers see UNAVAILABLE", async () => {
    const { registry, startedCount } = gatedRegistry();
    const server = await startCacheServer({ registry, port: 0 });
    const peer = createPeerClient(`127.0.0.1:${server.address.port}`, { timeoutMs: 10_000 });
    const outcome = peer.get({ group: "slow", key: "a" }).then(
      () => "resolved",
      (err: unknown) => err,
    );
    await startedCount(1);
    await server.close({ graceMs: 50 });
    const err = await outcome;
    assert.ok(err instanceof GeeCacheError);
    assert.equal(err.code, "UNAVAILABLE");
    await peer.close();
  });

  test("is idempotent and works with no connections", async () => {
    const server = await startCacheServer({ registry: createRegistry(), port: 0 });
    await Promise.all([server.close(), server.close()]);
    await server.close();
  });
});

describe("slow clients", { timeout: 5_000 }, () => {
  // Resolves with everything the server sent once it closed the connection.
  function exchange(port: number, send: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, "127.0.0.1", () => socket.write(send));
      let received = "";
      socket.setEncoding("latin1");
      socket.on("data", (chunk: string) => {
        received += chunk;
      });
      socket.on("error", reject);
      socket.on("close", () => resolve(received));
    });
  }

  test("a connection that never sends a byte is dropped after firstByteTimeoutMs", async () => {
    const server = await startCacheServer({
      registry: createRegistry(),
      port: 0,
      firstByteTimeoutMs: 50,
    });
    assert.equal(await exchange(server.address.port, ""), "");
    await server.close();
  });

  test("HTTP/1.1 headers that never finish get 408 after headersTimeoutMs", async () => {
    const server = await startCacheServer({
      registry: createRegistry(),
      port: 0,
      headersTimeoutMs: 100,
    });
    const reply = await exchange(server.address.port, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
    assert.match(reply, /^HTTP\/1\.1 408/);
    assert.match(reply, /\r\n\r\n\{"code":"deadline_exceeded","message":".+"\}$/);
    await server.close();
  });

  test("a request Node's HTTP/1.1 parser refuses gets a JSON error, between responses only", async () => {
    const server = await startCacheServer({ registry: demoRegistry().registry, port: 0 });
    const port = server.address.port;
    try {
      const cases: [string, number, string][] = [
        ["GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400, "invalid_argument"],
        [
          `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
          431,
          "resource_exhausted",
        ],
      ];
      for (const [request, status, code] of cases) {
        const reply = await exchange(port, request);
        const last = reply.slice(reply.lastIndexOf("HTTP/1.1 "));
        assert.match(last, new RegExp(`^HTTP/1\\.1 ${status} `), request.slice(0, 40));
        assert.match(last, /content-type: application\/json/i);
        assert.equal(
          (JSON.parse(last.slice(last.indexOf("\r\n\r\n") + 4)) as { code: string }).code,
          code,
        );
      }
      // On a kept connection, once the first answer is out: that answer, then the error.
      const kept = await new Promise<string>((resolve, reject) => {
        let received = "";
        const socket = net.connect(port, "127.0.0.1", () =>
          socket.write("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"),
        );
        socket.setEncoding("latin1");
        let sent = false;
        socket.on("data", (chunk: string) => {
          received += chunk;
          // The whole first answer (its JSON body ends the reply) is in.
          if (!sent && received.endsWith("}")) {
            sent = true;
            socket.write("GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n");
          }
        });
        socket.on("error", reject);
        socket.on("close", () => resolve(received));
      });
      assert.match(kept, /^HTTP\/1\.1 404 .*HTTP\/1\.1 400 .*"invalid_argument"/s);
      // The node still serves.
      assert.equal(
        (await rawHttp(port, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).slice(
          0,
          12,
        ),
        "HTTP/1.1 404",
      );
    } finally {
      await server.close();
    }
  });
});

describe("startCacheServer rejects options that would leave it unusable", () => {
  // Starting is the test: a server that did start is closed again so none leaks.
  async function startError(options: Record<string, unknown>): Promise<unknown> {
    try {
      const server = await startCacheServer({
        registry: createRegistry(),
        port: 0,
        ...options,
      } as unknown as CacheServerOptions);
      await server.close();
      return undefined;
    } catch (err) {
      return err;
    }
  }

  const ranges: Record<string, unknown[]> = {
    firstByteTimeoutMs: [Number.NaN, -1, 0, 2 ** 32, Number.POSITIVE_INFINITY],
    maxTimeoutMs: [-1, 0, Number.NaN, 2 ** 31],
    headersTimeoutMs: [-1, 0, Number.NaN, 2 ** 31],
    readMaxBytes: [-1, 0, Number.NaN, 2 ** 32],
    port: [-1, 65_536, Number.NaN, 1.5],
    idleTimeoutMs: [-1, 0, Number.NaN, 2 ** 31],
    maxConcurrentStreams: [0, -1, Number.NaN, 2 ** 31, 1.5],
  };
  for (const [name, values] of Object.entries(ranges)) {
    test(`${name} out of range is a RangeError`, async () => {
      for (const value of values) {
        const err = await startError({ [name]: value });
        assert.ok(err instanceof RangeError, `${name}: ${String(value)} gave ${String(err)}`);
        assert.match(err.message, new RegExp(`^${name} must be .*, got ${String(value)}$`));
      }
      const err = await startError({ [name]: "1000" });
      assert.ok(err instanceof TypeError, `${name}: "1000" gave ${String(err)}`);
      assert.match(err.message, new RegExp(`^${name} must be a number`));
    });
  }

  test("http that is not a function is a TypeError", async () => {
    const err = await startError({ http: { "/healthz": () => true } });
    assert.ok(err instanceof TypeError, String(err));
    assert.match(err.message, /^http must be a function, got object$/);
  });

  test("a missing registry is a TypeError", async () => {
    for (const registry of [undefined, null, {}]) {
      const err = await startError({ registry });
      assert.ok(err instanceof TypeError, String(err));
      assert.match(err.message, /^registry must be a Registry/);
    }
  });

  test("the widest values are accepted", async () => {
    const longest = 2 ** 31 - 1;
    const err = await startError({
      firstByteTimeoutMs: longest,
      maxTimeoutMs: longest,
      headersTimeoutMs: longest,
      readMaxBytes: 2 ** 32 - 1,
    });
    assert.equal(err, undefined);
  });

  test("close with graceMs out of range rejects with a RangeError; a good close still works", async () => {
    const server = await startCacheServer({ registry: createRegistry(), port: 0 });
    for (const graceMs of [-1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
      await assert.rejects(server.close({ graceMs }), {
        name: "RangeError",
        message: new RegExp(`^graceMs must be .*, got ${String(graceMs)}$`),
      });
    }
    await server.close({ graceMs: 0 });
  });
});
