import assert from "node:assert/strict";
import { type AddressInfo, connect } from "node:net";
import { test } from "node:test";
import {
  createRegistry,
  GeeCacheError,
  type PeerGetRequest,
  type PeerGetResponse,
} from "@geecache/core";
import { buildGateway, type GatewayPeer, type GatewayRing } from "./build-app.ts";

type Behaviour = (req: PeerGetRequest, signal?: AbortSignal) => Promise<PeerGetResponse>;

/** A fake node: records the calls it gets (and their forwarded flags) and answers with its behaviour. */
function node(
  id: string,
  behaviour: Behaviour,
): GatewayPeer & {
  calls: string[];
  forwarded: (boolean | undefined)[];
  timeouts: (number | undefined)[];
} {
  const calls: string[] = [];
  const forwarded: (boolean | undefined)[] = [];
  const timeouts: (number | undefined)[] = [];
  return {
    id,
    calls,
    forwarded,
    timeouts,
    get(req, options) {
      calls.push(`${req.group}/${req.key}`);
      forwarded.push(options?.forwarded);
      timeouts.push(options?.timeoutMs);
      return behaviour(req, options?.signal);
    },
  };
}

const table: Record<string, Uint8Array> = {
  Tom: Buffer.from("630"),
  Zoë: Buffer.from("🏆 731"),
  Blob: Uint8Array.of(0xff, 0xfe, 0x00),
};
const serve: Behaviour = async ({ group, key }) => {
  if (group !== "scores") throw new GeeCacheError("UNKNOWN_GROUP", `no group ${group}`);
  const value = table[key];
  if (value === undefined) throw new GeeCacheError("NOT_FOUND", `${key} not found`);
  return key === "Tom" ? { value, expiresAtMs: 1_900_000_000_000 } : { value };
};
const refuse: Behaviour = async () => {
  throw new GeeCacheError("UNAVAILABLE", "connect ECONNREFUSED");
};
const hang: Behaviour = (_req, signal) =>
  new Promise((_resolve, reject) => signal?.addEventListener("abort", () => reject(signal.reason)));

/** A ring of the given nodes where every key is owned by the first, then the second... */
function ring(nodes: GatewayPeer[]): GatewayRing {
  return {
    pickPeers: (_key, n) => nodes.slice(0, n),
    ownerOf: () => nodes[0]?.id,
    peers: () => nodes.map((p) => p.id),
    downPeers: () => [],
  };
}

function gateway(nodes: GatewayPeer[], extra: Partial<Parameters<typeof buildGateway>[0]> = {}) {
  return buildGateway({
    ring: ring(nodes),
    nodeStats: async (address) => {
      if (address === "down:1") throw new GeeCacheError("UNAVAILABLE", "connect ECONNREFUSED");
      return { id: address, groups: {} };
    },
    ...extra,
  });
}

test("GET /api answers the owner's value as UTF-8 text, base64 when it is not UTF-8", async () => {
  const a = node("a:1", serve);
  const app = gateway([a, node("b:1", serve)]);
  const tom = await app.inject("/api?key=Tom");
  assert.equal(tom.statusCode, 200);
  assert.deepEqual(tom.json(), {
    key: "Tom",
    group: "scores",
    value: "630",
    expiresAtMs: 1_900_000_000_000,
  });
  const zoe = await app.inject(`/api?key=${encodeURIComponent("Zoë")}&group=scores`);
  assert.deepEqual(zoe.json(), { key: "Zoë", group: "scores", value: "🏆 731" });
  const blob = await app.inject("/api?key=Blob");
  assert.deepEqual(blob.json(), {
    key: "Blob",
    group: "scores",
    value: "//4A",
    encoding: "base64",
  });
  assert.deepEqual(a.calls, ["scores/Tom", "scores/Zoë", "scores/Blob"]);
});

test("concurrent requests for one key share one call to its node; other keys, and later requests, get their own", {
  timeout: 10_000,
}, async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const a = node("a:1", async (req) => {
    await gate;
    return serve(req);
  });
  const app = gateway([a]);
  const toms = Array.from({ length: 20 }, () => app.inject("/api?key=Tom"));
  const zoes = Array.from({ length: 5 }, () => app.inject(`/api?key=${encodeURIComponent("Zoë")}`));
  // A key equal to another group's name and key run together is still its own call.
  const other = app.inject("/api?key=sTom&group=score");
  while (a.calls.length < 3) await new Promise((r) => setTimeout(r, 5));
  release();
  for (const res of await Promise.all(toms)) assert.equal(res.json().value, "630");
  for (const res of await Promise.all(zoes)) assert.equal(res.json().value, "🏆 731");
  assert.equal((await other).statusCode, 404);
  assert.deepEqual(a.calls.toSorted(), ["score/sTom", "scores/Tom", "scores/Zoë"]);
  // Nothing is cached at the gateway: the next request is a call of its own.
  assert.equal((await app.inject("/api?key=Tom")).statusCode, 200);
  assert.equal(a.calls.length, 4);
});

test("a request that joins a call and outlives it makes another call, not a 504 before its deadline", {
  timeout: 10_000,
}, async () => {
  // The node answers 1.2 s after it was first asked, and honours each call's timeoutMs as a
  // real peer client does. The first request gives up at 1 s; the second, 0.5 s later, at 1.5 s.
  let firstAskedAt: number | undefined;
  const a = node("a:1", async () => {
    throw new Error("replaced below");
  });
  a.get = (req, options) => {
    a.calls.push(`${req.group}/${req.key}`);
    firstAskedAt ??= performance.now();
    const readyIn = Math.max(0, firstAskedAt + 1_200 - performance.now());
    return new Promise((resolve, reject) => {
      const ready = setTimeout(() => {
        clearTimeout(late);
        resolve(serve(req));
      }, readyIn);
      const late = setTimeout(() => {
        clearTimeout(ready);
        reject(new GeeCacheError("DEADLINE_EXCEEDED", "a:1 did not answer in time"));
      }, options?.timeoutMs ?? 60_000);
    });
  };
  const app = gateway([a], { timeoutMs: 1_000 });
  const first = app.inject("/api?key=Tom");
  await new Promise((r) => setTimeout(r, 500));
  const joiner = app.inject("/api?key=Tom");
  assert.equal((await first).statusCode, 504);
  const late = await joiner;
  assert.equal(late.statusCode, 200, late.body);
  assert.equal(late.json().value, "630");
  // The joiner's own call, for the time it had left.
  assert.equal(a.calls.length, 2);
});

test("a node that answers out of time at once is asked once per request, not again and again", async () => {
  const a = node("a:1", async () => {
    throw new GeeCacheError("DEADLINE_EXCEEDED", "the node's load ran out of time");
  });
  const res = await gateway([a], { timeoutMs: 1_000 }).inject("/api?key=Tom");
  assert.equal(res.statusCode, 504);
  assert.deepEqual(a.calls, ["scores/Tom"]);
});

/**
 * A node in front of a real core group whose source takes loadMs, and which ends its work when
 * the call's deadline passes or the caller leaves, as a real node does (so the load ends with
 * the last call waiting for it).
 */
function groupNode(loadMs: number) {
  let loads = 0;
  const registry = createRegistry();
  const group = registry.newGroup({
    name: "scores",
    maxBytes: 1 << 20,
    getter: async (_key, { signal }) => {
      loads++;
      await new Promise((resolve, reject) => {
        const t = setTimeout(resolve, loadMs);
        signal.addEventListener("abort", () => {
          clearTimeout(t);
          reject(signal.reason);
        });
      });
      return "630";
    },
  });
  const a = node("a:1", async () => {
    throw new Error("replaced below");
  });
  a.get = async (req, options) => {
    a.calls.push(`${req.group}/${req.key}`);
    const signals = [AbortSignal.timeout(options?.timeoutMs ?? 60_000)];
    if (options?.signal !== undefined) signals.push(options.signal);
    const signal = AbortSignal.any(signals);
    try {
      const view = await group.get(req.key, { signal });
      return { value: view.toBuffer() };
    } catch (err) {
      if (signal.aborted && !options?.signal?.aborted) {
        throw new GeeCacheError("DEADLINE_EXCEEDED", "the call ran out of time");
      }
      throw err;
    }
  };
  return { node: a, loads: () => loads };
}

test("a key slower than the deadline, asked all the time: calls overlap, so the load finishes and later requests get it", {
  timeout: 20_000,
}, async () => {
  // The source takes 1.5 s; the gateway gives a request 1 s.
  const { node: a, loads } = groupNode(1_500);
  const app = gateway([a], { timeoutMs: 1_000 });
  // A request every 100 ms for 2 s.
  const answers: Promise<number>[] = [];
  for (let i = 0; i < 20; i++) {
    answers.push(app.inject("/api?key=Tom").then((r) => r.statusCode));
    await new Promise((r) => setTimeout(r, 100));
  }
  const statuses = await Promise.all(answers);
  // One load that lasted (the calls overlapping kept it going), where a call that ended with
  // each deadline would have started a new one each time and never finished.
  assert.ok(loads() <= 2, `${loads()} loads`);
  assert.ok(statuses.filter((s) => s === 200).length >= 5, statuses.join(" "));
});

test("a request that joined a call early moves to the next call before that one runs out: the load goes on", {
  timeout: 10_000,
}, async () => {
  // The source takes 2.3 s, a request may wait 2 s: the first request cannot get the value,
  // the one 0.8 s later can, if the node's load is still going when the first call ends.
  const { node: a, loads } = groupNode(2_300);
  const app = gateway([a], { timeoutMs: 2_000 });
  const first = app.inject("/api?key=Tom");
  await new Promise((r) => setTimeout(r, 800));
  const second = app.inject("/api?key=Tom");
  assert.equal((await first).statusCode, 504);
  assert.equal((await second).statusCode, 200);
  assert.equal(loads(), 1);
});

test("a node that answers out of time before the call's deadline is not asked again", async () => {
  const a = node("a:1", async () => {
    await new Promise((r) => setTimeout(r, 300));
    throw new GeeCacheError("DEADLINE_EXCEEDED", "the node's own load ran out of time");
  });
  const app = gateway([a], { timeoutMs: 1_000 });
  const first = app.inject("/api?key=Tom");
  await new Promise((r) => setTimeout(r, 100));
  const second = app.inject("/api?key=Tom");
  assert.equal((await first).statusCode, 504);
  assert.equal((await second).statusCode, 504);
  assert.equal(a.calls.length, 1);
});

test("an early 'out of time' from a call a request moved on from is its answer, not ignored", {
  timeout: 10_000,
}, async () => {
  // The node gives up 0.7 s into every call (its own deadline is shorter than the gateway's).
  const a = node("a:1", async () => {
    await new Promise((r) => setTimeout(r, 700));
    throw new GeeCacheError("DEADLINE_EXCEEDED", "the node's own load ran out of time");
  });
  const lines: string[] = [];
  const app = gateway([a], {
    timeoutMs: 1_000,
    logger: { level: "warn", stream: { write: (line: string) => void lines.push(line) } },
  });
  const first = app.inject("/api?key=Tom");
  await new Promise((r) => setTimeout(r, 100));
  // This one outlives the first call, so it also joins a second call at 0.5 s; the first
  // call's answer at 0.7 s is still final for it.
  const second = app.inject("/api?key=Tom");
  assert.equal((await first).statusCode, 504);
  assert.equal((await second).statusCode, 504);
  const causes = lines.map((l) => String((JSON.parse(l) as { cause?: unknown }).cause));
  assert.equal(causes.length, 2);
  for (const cause of causes) assert.match(cause, /the node.s own load ran out of time/);
});

test("a client that hangs up while others wait for the same key leaves the call running for them", {
  timeout: 10_000,
}, async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let nodeSignal: AbortSignal | undefined;
  const a = node("a:1", async (req, signal) => {
    nodeSignal = signal;
    await gate;
    return serve(req);
  });
  const lines: string[] = [];
  const app = gateway([a], {
    timeoutMs: 60_000,
    logger: { level: "info", stream: { write: (line: string) => void lines.push(line) } },
  });
  let handled = 0;
  app.addHook("preHandler", async () => {
    handled++;
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  t.after(() => {
    // fetch keeps its sockets open, which close() would wait out.
    app.server.closeAllConnections();
    return app.close();
  });
  const { port } = app.server.address() as AddressInfo;
  const leaver = new AbortController();
  const left = fetch(`http://127.0.0.1:${port}/api?key=Tom`, { signal: leaver.signal });
  while (nodeSignal === undefined) await new Promise((r) => setTimeout(r, 5));
  const stayer = fetch(`http://127.0.0.1:${port}/api?key=Tom`);
  // The handler joins the call in the same turn as its preHandler hook.
  while (handled < 2) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setImmediate(r));
  leaver.abort();
  await assert.rejects(left);
  while (!lines.some((l) => l.includes("client went away"))) {
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(nodeSignal.aborted, false);
  release();
  const res = await stayer;
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { value: string }).value, "630");
  assert.deepEqual(a.calls, ["scores/Tom"]);
});

test("GET /metrics counts responses by route and status, calls to nodes by outcome, and shared calls", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const a = node("a:1", async (req) => {
    if (req.key === "Tom") await gate;
    return serve(req);
  });
  const app = gateway([a]);
  const toms = Array.from({ length: 5 }, () => app.inject("/api?key=Tom"));
  while (a.calls.length < 1) await new Promise((r) => setTimeout(r, 5));
  assert.equal((await app.inject("/api?key=Nobody")).statusCode, 404);
  assert.equal((await app.inject("/api?key=")).statusCode, 400);
  assert.equal((await app.inject("/nowhere")).statusCode, 404);
  release();
  await Promise.all(toms);
  const res = await app.inject("/metrics");
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  const lines = res.body.trimEnd().split("\n");
  for (const line of [
    "geecache_gateway_nodes 1",
    "geecache_gateway_nodes_down 0",
    'geecache_gateway_responses_total{route="/api",code="200"} 5',
    'geecache_gateway_responses_total{route="/api",code="404"} 1',
    'geecache_gateway_responses_total{route="/api",code="400"} 1',
    'geecache_gateway_responses_total{route="other",code="404"} 1',
    "geecache_gateway_lookups_total 6",
    "geecache_gateway_shared_calls_total 2",
    'geecache_gateway_node_calls_total{outcome="OK"} 1',
    'geecache_gateway_node_calls_total{outcome="NOT_FOUND"} 1',
    'geecache_gateway_api_duration_seconds_bucket{le="+Inf"} 7',
    "geecache_gateway_api_duration_seconds_count 7",
  ]) {
    assert.ok(lines.includes(line), `missing ${line}`);
  }
});

test("bad keys are 400 and never reach a node", async () => {
  const a = node("a:1", serve);
  const app = gateway([a], { maxKeyBytes: 8 });
  for (const url of [
    "/api",
    "/api?key=",
    "/api?key=123456789",
    "/api?key=a&key=b",
    "/api?key=x&color=red",
  ]) {
    const res = await app.inject(url);
    assert.equal(res.statusCode, 400, url);
    assert.equal(res.json().error.code, "INVALID_ARGUMENT", url);
    assert.equal(typeof res.json().error.message, "string");
  }
  // 3 characters, 9 bytes: the limit is in bytes, as in core.
  assert.equal((await app.inject(`/api?key=${encodeURIComponent("🏆🏆🏆")}`)).statusCode, 400);
  assert.deepEqual(a.calls, []);
});

test("not found and unknown group are 404, with their codes", async () => {
  const app = gateway([node("a:1", serve)]);
  const missing = await app.inject("/api?key=nobody");
  assert.equal(missing.statusCode, 404);
  assert.deepEqual(missing.json(), {
    error: { code: "NOT_FOUND", message: 'key "nobody" not found in group "scores"' },
  });
  const group = await app.inject("/api?key=Tom&group=nope");
  assert.equal(group.statusCode, 404);
  assert.deepEqual(group.json(), { error: { code: "UNKNOWN_GROUP", message: 'no group "nope"' } });
  const route = await app.inject("/nowhere");
  assert.equal(route.statusCode, 404);
  assert.equal(route.json().error.code, "ROUTE_NOT_FOUND");
  const post = await app.inject({ method: "POST", url: "/nowhere" });
  assert.equal(post.statusCode, 404);
  assert.equal(post.json().error.code, "ROUTE_NOT_FOUND");
});

test("another method on a GET route is 405 with Allow, and HEAD is answered", async () => {
  const a = node("a:1", serve);
  const app = gateway([a]);
  for (const [method, url] of [
    ["POST", "/api?key=Tom"],
    ["DELETE", "/api/stats"],
    ["PUT", "/healthz"],
  ] as const) {
    const res = await app.inject({ method, url });
    assert.equal(res.statusCode, 405, `${method} ${url}`);
    assert.equal(res.headers.allow, "GET, HEAD");
    assert.equal(res.json().error.code, "METHOD_NOT_ALLOWED");
  }
  assert.deepEqual(a.calls, []);
  const head = await app.inject({ method: "HEAD", url: "/api?key=Tom" });
  assert.equal(head.statusCode, 200);
  assert.equal(head.body, "");
});

test("bodies are never parsed: a POST with broken JSON or a big body is still 405 or 404", async () => {
  const app = gateway([node("a:1", serve)]);
  const json = { "content-type": "application/json" };
  for (const [url, status, code] of [
    ["/api?key=Tom", 405, "METHOD_NOT_ALLOWED"],
    ["/api/stats", 405, "METHOD_NOT_ALLOWED"],
    ["/nope", 404, "ROUTE_NOT_FOUND"],
  ] as const) {
    const res = await app.inject({ method: "POST", url, headers: json, payload: "{bad" });
    assert.equal(res.statusCode, status, url);
    assert.equal(res.json().error.code, code, url);
  }
  const big = await app.inject({
    method: "PUT",
    url: "/api?key=Tom",
    headers: { "content-type": "text/plain" },
    payload: "x".repeat(2 << 20),
  });
  assert.equal(big.statusCode, 405);
  assert.equal(big.json().error.code, "METHOD_NOT_ALLOWED");
});

test("malformed escapes, an empty or overlong group, and a bad path are 400 INVALID_ARGUMENT", async () => {
  const a = node("a:1", serve);
  const app = gateway([a]);
  for (const url of [
    "/api?key=%ZZ",
    "/api?key=%C3%28",
    "/api?key=%ED%A0%80",
    "/api?key=Tom&group=",
    `/api?key=Tom&group=${"g".repeat(257)}`,
    "/%ZZ",
    "/api%ZZ?key=Tom",
  ]) {
    const res = await app.inject(url);
    assert.equal(res.statusCode, 400, url);
    assert.equal(res.json().error.code, "INVALID_ARGUMENT", url);
  }
  assert.deepEqual(a.calls, []);
  // Well-formed escapes still decode.
  assert.equal((await app.inject("/api?key=%54om")).statusCode, 200);
});

test("requests Node's parser refuses get the same JSON error shape", async (t) => {
  const app = gateway([node("a:1", serve)]);
  await app.listen({ host: "127.0.0.1", port: 0 });
  t.after(() => app.close());
  const { port } = app.server.address() as AddressInfo;
  const raw = async (request: string) => {
    const socket = connect(port, "127.0.0.1");
    socket.end(request);
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString();
    const status = Number(text.slice(9, 12));
    return { status, body: JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)) };
  };
  const garbage = await raw("GET /api?key=Tom HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n");
  assert.equal(garbage.status, 400);
  assert.equal(garbage.body.error.code, "INVALID_ARGUMENT");
  const huge = await raw(
    `GET /api?key=Tom HTTP/1.1\r\nHost: x\r\nX-Big: ${"y".repeat(40_000)}\r\n\r\n`,
  );
  assert.equal(huge.status, 431);
  assert.equal(huge.body.error.code, "INVALID_ARGUMENT");
});

test("a request that arrives while the gateway closes is 503 UNAVAILABLE in JSON", async () => {
  let release: (() => void) | undefined;
  const slow = node(
    "a:1",
    () =>
      new Promise((resolve) => {
        release = () => resolve({ value: Buffer.from("630") });
      }),
  );
  const app = gateway([slow], { timeoutMs: 60_000 });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as AddressInfo;
  // A keep-alive connection busy with a slow request stays open through close(); its next
  // request arrives after close() began.
  const socket = connect(port, "127.0.0.1");
  socket.write("GET /api?key=Tom HTTP/1.1\r\nHost: x\r\n\r\n");
  const chunks: Buffer[] = [];
  socket.on("data", (c: Buffer) => chunks.push(c));
  while (release === undefined) await new Promise((r) => setTimeout(r, 5));
  const closed = app.close();
  await new Promise((r) => setTimeout(r, 50));
  socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  await new Promise((r) => setTimeout(r, 50));
  release();
  // The 503 says "Connection: close", so the gateway ends the connection.
  await new Promise((r) => socket.once("close", r));
  await closed;
  const text = Buffer.concat(chunks).toString();
  const [first, second] = text.split(/(?=HTTP\/1\.1 )/);
  assert.match(first!, /^HTTP\/1\.1 200 /);
  assert.match(second!, /^HTTP\/1\.1 503 /);
  assert.deepEqual(JSON.parse(second!.slice(second!.indexOf("\r\n\r\n") + 4)), {
    error: { code: "UNAVAILABLE", message: "the gateway is shutting down" },
  });
});

test("an unavailable owner is skipped for the next node; none reachable is 503", async () => {
  const a = node("a:1", refuse);
  const b = node("b:1", serve);
  const ok = await gateway([a, b]).inject("/api?key=Tom");
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(b.calls, ["scores/Tom"]);
  // The owner may route the key on (its ring may be newer than ours); the stand-in must not.
  assert.deepEqual(a.forwarded, [false]);
  assert.deepEqual(b.forwarded, [true]);
  // Each call gives the node the whole timeout (2 s), for it to give up then.
  for (const t of [...a.timeouts, ...b.timeouts]) assert.equal(t, 2_000);

  const down = await gateway([node("a:1", refuse), node("b:1", refuse), node("c:1", serve)]).inject(
    "/api?key=Tom",
  );
  assert.equal(down.statusCode, 503);
  assert.equal(down.json().error.code, "UNAVAILABLE");
  // Which nodes were tried goes to the log, not to the public.
  assert.equal(down.json().error.message, "no cache node could answer (tried 2)");

  const none = await gateway([]).inject("/api?key=Tom");
  assert.equal(none.statusCode, 503);
});

test("a node that never answers ends at the request deadline with 504, logged with the key and node", async () => {
  const b = node("b:1", serve);
  const lines: string[] = [];
  const res = await gateway([node("a:1", hang), b], {
    timeoutMs: 50,
    logger: { level: "warn", stream: { write: (line: string) => void lines.push(line) } },
  }).inject("/api?key=Tom");
  assert.equal(res.statusCode, 504);
  assert.equal(res.json().error.code, "DEADLINE_EXCEEDED");
  assert.equal(res.json().error.message, "no answer within 50 ms");
  assert.deepEqual(b.calls, []);
  const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    logged.map(({ msg, code, key }) => ({ msg, code, key })),
    [{ msg: "upstream failed", code: "DEADLINE_EXCEEDED", key: "Tom" }],
  );
  assert.match(String(logged[0]!.cause), /^last asked a:1: /);
});

test("a client that hangs up cancels the call to the node, and the log says so", {
  timeout: 10_000,
}, async (t) => {
  let nodeSignal: AbortSignal | undefined;
  const a = node("a:1", (req, signal) => {
    nodeSignal = signal;
    return hang(req, signal);
  });
  const lines: string[] = [];
  const app = gateway([a], {
    timeoutMs: 60_000,
    logger: { level: "info", stream: { write: (line: string) => void lines.push(line) } },
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  t.after(() => app.close());
  const { port } = app.server.address() as AddressInfo;
  const client = new AbortController();
  const pending = fetch(`http://127.0.0.1:${port}/api?key=Tom`, { signal: client.signal });
  while (nodeSignal === undefined) await new Promise((r) => setTimeout(r, 5));
  client.abort();
  await assert.rejects(pending);
  while (!nodeSignal.aborted) await new Promise((r) => setTimeout(r, 5));
  while (!lines.some((l) => l.includes("client went away"))) {
    await new Promise((r) => setTimeout(r, 5));
  }
});

test("failures of the source, keys a node refuses and bugs answer without internals", async () => {
  // A node's own message names the node (the peer client prefixes its address).
  const picky = node("10.0.0.7:8001", async () => {
    throw new GeeCacheError("INVALID_ARGUMENT", "peer 10.0.0.7:8001: key cannot be a segment");
  });
  const refused = await gateway([picky]).inject("/api?key=..");
  assert.equal(refused.statusCode, 400);
  assert.deepEqual(refused.json(), {
    error: { code: "INVALID_ARGUMENT", message: 'key ".." cannot be loaded in group "scores"' },
  });

  const leaky = node("a:1", async () => {
    throw new GeeCacheError("LOAD_FAILED", "origin http://10.1.2.3/secret answered 500");
  });
  const failed = await gateway([leaky]).inject("/api?key=Tom");
  assert.equal(failed.statusCode, 502);
  assert.deepEqual(failed.json(), {
    error: { code: "LOAD_FAILED", message: "the data source failed" },
  });

  const buggy = node("a:1", async () => {
    throw new TypeError("cannot read properties of undefined (reading 'x')");
  });
  const bug = await gateway([buggy]).inject("/api?key=Tom");
  assert.equal(bug.statusCode, 500);
  assert.deepEqual(bug.json(), { error: { code: "INTERNAL", message: "internal error" } });
  assert.doesNotMatch(bug.body, /at |reading/);
});

test("GET /api/stats reports every node, the unreachable ones as such", async () => {
  const app = gateway([node("a:1", serve), node("down:1", serve)]);
  const res = await app.inject("/api/stats");
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), {
    nodes: [
      { address: "a:1", ok: true, stats: { id: "a:1", groups: {} } },
      {
        address: "down:1",
        ok: false,
        error: { code: "UNAVAILABLE", message: "connect ECONNREFUSED" },
      },
    ],
  });
});

test("GET /api/stats reports a node that does not answer in time as DEADLINE_EXCEEDED", async () => {
  const app = gateway([node("a:1", serve), node("slow:1", hang)], {
    timeoutMs: 50,
    // As transport-connect's client does when its signal aborts.
    nodeStats: (address, { signal }) =>
      address === "slow:1"
        ? new Promise((_resolve, reject) =>
            signal.addEventListener("abort", () =>
              reject(new GeeCacheError("CANCELED", "The operation was aborted due to timeout")),
            ),
          )
        : Promise.resolve({ id: address, groups: {} }),
  });
  const res = await app.inject("/api/stats");
  assert.deepEqual(res.json().nodes[1], {
    address: "slow:1",
    ok: false,
    error: { code: "DEADLINE_EXCEEDED", message: "no answer within 50 ms" },
  });
});

test("GET /healthz", async () => {
  const res = await gateway([node("a:1", serve)]).inject("/healthz");
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), { status: "ok", nodes: 1, down: [] });
});

test("while the gateway knows no node, /healthz and /api are 503 and say so; then 200", async () => {
  // The ring's member list is filled later, as etcd's watch does (or never, if etcd is down).
  const nodes: GatewayPeer[] = [];
  const app = gateway(nodes);
  const health = await app.inject("/healthz");
  assert.equal(health.statusCode, 503);
  assert.match(String(health.headers["content-type"]), /^application\/json/);
  const body = health.json() as { error: { message: string } };
  assert.match(body.error.message, /^no cache nodes known/);
  assert.deepEqual(body, {
    status: "unavailable",
    nodes: 0,
    down: [],
    error: { code: "UNAVAILABLE", message: body.error.message },
  });
  const api = await app.inject("/api?key=Tom");
  assert.equal(api.statusCode, 503);
  assert.deepEqual(api.json(), { error: { code: "UNAVAILABLE", message: body.error.message } });
  assert.doesNotMatch(body.error.message, /configured/);

  nodes.push(node("a:1", serve));
  const ok = await app.inject("/healthz");
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(ok.json(), { status: "ok", nodes: 1, down: [] });
  assert.equal((await app.inject("/api?key=Tom")).statusCode, 200);
});

test("--access-log off drops the per-request log lines, and only them", async () => {
  const logged = async (accessLog: boolean) => {
    const lines: string[] = [];
    const app = gateway([node("a:1", serve), node("b:2", refuse)], {
      accessLog,
      logger: { level: "info", stream: { write: (line: string) => void lines.push(line) } },
    });
    assert.equal((await app.inject("/api?key=Tom")).statusCode, 200);
    await app.close();
    return lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
  };
  const on = await logged(true);
  assert.ok(on.includes("incoming request") && on.includes("request completed"), on.join("|"));
  const off = await logged(false);
  assert.ok(!off.includes("incoming request") && !off.includes("request completed"), off.join("|"));
});
