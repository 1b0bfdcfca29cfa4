import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { GeeCacheError } from "@geecache/core";
import { createHttpOrigin } from "./http-source.ts";

let server: Server;
let base: string;
const hang: (() => void)[] = [];
/** Every path the origin was asked for. */
const asked: string[] = [];

before(async () => {
  server = createServer((req, res) => {
    asked.push(req.url ?? "");
    const [, group, key] = (req.url ?? "").split("/").map(decodeURIComponent);
    if (key === "Tom") {
      res.setHeader("cache-control", "public, max-age=60");
      res.end(`${group}:630`);
    } else if (key === "a b/ü") res.end("encoded");
    else if (key === "big") res.end("x".repeat(100));
    else if (key === "chunked-big") {
      res.write("x".repeat(60));
      res.end("x".repeat(60));
    } else if (key === "boom") {
      res.statusCode = 503;
      res.end("down");
    } else if (key === "slow") hang.push(() => res.end("late"));
    else {
      res.statusCode = 404;
      res.end();
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  for (const h of hang) h();
  server.closeAllConnections();
  server.close();
});

const ctx = (group = "scores") => ({ signal: new AbortController().signal, group });

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof GeeCacheError, String(err));
    return err.code;
  }
  return "resolved";
}

test("a 2xx body is the value and max-age becomes its TTL", async () => {
  const get = createHttpOrigin({ urlTemplate: `${base}/{group}/{key}` });
  const got = await get("Tom", ctx("people"));
  assert.equal(Buffer.from(got!.value).toString(), "people:630");
  assert.equal(got!.ttlMs, 60_000);
  const plain = await get("a b/ü", ctx());
  assert.equal(Buffer.from(plain!.value).toString(), "encoded");
  assert.equal(plain!.ttlMs, undefined);
});

test("404 is not found; 5xx, oversize and timeouts are load failures", async () => {
  // Answers that do come get a deadline no loaded CI machine reaches; only "slow", which never
  // answers, gets a short one.
  const get = createHttpOrigin({
    urlTemplate: `${base}/{group}/{key}`,
    maxBytes: 80,
    timeoutMs: 10_000,
  });
  assert.equal(await get("nobody", ctx()), null);
  assert.equal(await code(get("boom", ctx())), "LOAD_FAILED");
  assert.equal(await code(get("big", ctx())), "LOAD_FAILED");
  assert.equal(await code(get("chunked-big", ctx())), "LOAD_FAILED");
  const impatient = createHttpOrigin({ urlTemplate: `${base}/{group}/{key}`, timeoutMs: 100 });
  assert.equal(await code(impatient("slow", ctx())), "LOAD_FAILED");
  const closed = createHttpOrigin({ urlTemplate: "http://127.0.0.1:1/{key}" });
  assert.equal(await code(closed("x", ctx())), "LOAD_FAILED");
});

test("the caller's abort is a cancellation", async () => {
  const get = createHttpOrigin({ urlTemplate: `${base}/{group}/{key}` });
  const ac = new AbortController();
  const p = get("slow", { signal: ac.signal, group: "g" });
  ac.abort();
  assert.equal(await code(p), "CANCELED");
});

test('a key or group "." or ".." is a load failure, never a fetch of another path', async () => {
  const get = createHttpOrigin({ urlTemplate: `${base}/{group}/{key}?v=1` });
  asked.length = 0;
  for (const key of [".", ".."]) assert.equal(await code(get(key, ctx())), "LOAD_FAILED", key);
  assert.equal(await code(get("Tom", ctx(".."))), "LOAD_FAILED");
  assert.deepEqual(asked, []);
  // Dots inside a segment, or in the query, are plain characters.
  const query = createHttpOrigin({ urlTemplate: `${base}/scores/x?key={key}` });
  assert.equal(await query("..", ctx()), null);
  assert.equal(await get("..x", ctx()), null);
  assert.deepEqual(asked, ["/scores/x?key=..", "/scores/..x?v=1"]);
});

test("bad templates are rejected up front", () => {
  assert.throws(() => createHttpOrigin({ urlTemplate: `${base}/../{key}` }), TypeError);
  assert.throws(() => createHttpOrigin({ urlTemplate: `${base}/{group}` }), TypeError);
  assert.throws(() => createHttpOrigin({ urlTemplate: "ftp://x/{key}" }), TypeError);
  assert.throws(() => createHttpOrigin({ urlTemplate: "not a url {key}" }), TypeError);
});
