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
    else if (key === "moved") {
      res.writeHead(302, { location: "/admin/secret" });
      res.end();
    } else if (key === "part") {
      res.writeHead(206, { "content-range": "bytes 0-3/100" });
      res.end("part");
    } else if (key === "forever") {
      res.setHeader("cache-control", "max-age=99999999999999");
      res.end("v");
    } else if (group === "admin") res.end("ADMIN-SECRET");
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

test("a 200 body is the value and max-age becomes its TTL", async () => {
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

test('a key or group "." or ".." is a bad key, never a fetch of another path', async () => {
  const get = createHttpOrigin({ urlTemplate: `${base}/{group}/{key}?v=1` });
  asked.length = 0;
  for (const key of [".", ".."]) assert.equal(await code(get(key, ctx())), "INVALID_ARGUMENT", key);
  assert.equal(await code(get("Tom", ctx(".."))), "INVALID_ARGUMENT");
  assert.deepEqual(asked, []);
  // Between backslashes too: URL parsing takes them for slashes.
  const slashes = createHttpOrigin({ urlTemplate: `${base}/a\\{key}\\admin` });
  assert.equal(await code(slashes("..", ctx())), "INVALID_ARGUMENT");
  assert.deepEqual(asked, []);
  // Dots inside a segment, or in the query, are plain characters.
  const query = createHttpOrigin({ urlTemplate: `${base}/scores/x?key={key}` });
  assert.equal(await query("..", ctx()), null);
  assert.equal(await get("..x", ctx()), null);
  assert.deepEqual(asked, ["/scores/x?key=..", "/scores/..x?v=1"]);
});

test("a redirect is not followed, and only a whole value (200) is one", async () => {
  const get = createHttpOrigin({ urlTemplate: `${base}/{group}/{key}` });
  asked.length = 0;
  assert.equal(await code(get("moved", ctx())), "LOAD_FAILED");
  // The redirect's target (which would answer) was never asked for.
  assert.deepEqual(asked, ["/scores/moved"]);
  assert.equal(await code(get("part", ctx())), "LOAD_FAILED");
});

test("a max-age past 2^31 seconds is taken as 2^31 seconds (RFC 9111)", async () => {
  const get = createHttpOrigin({ urlTemplate: `${base}/{group}/{key}` });
  assert.equal((await get("forever", ctx()))!.ttlMs, 2 ** 31 * 1_000);
});

test("bad templates are rejected up front", () => {
  // A password would be refused by fetch on every load and logged with every failure.
  assert.throws(() => createHttpOrigin({ urlTemplate: "http://u:pw@127.0.0.1/{key}" }), TypeError);
  // A key in the host would let clients choose the server the cache fetches from.
  assert.throws(() => createHttpOrigin({ urlTemplate: "http://{key}/x" }), TypeError);
  assert.throws(
    () => createHttpOrigin({ urlTemplate: "http://{key}.origin.internal/" }),
    TypeError,
  );
  assert.throws(() => createHttpOrigin({ urlTemplate: "http://o:{group}/{key}" }), TypeError);
  // A malformed template with a password is refused without repeating the password.
  assert.throws(
    () => createHttpOrigin({ urlTemplate: "http://u:S3cret@127.0.0.1:99999/{key}" }),
    (err: unknown) => err instanceof TypeError && !err.message.includes("S3cret"),
  );
  // URL parsing takes a backslash for a slash: a dot segment written with one is still one.
  assert.throws(() => createHttpOrigin({ urlTemplate: `${base}\\..\\{key}` }), TypeError);
  assert.throws(() => createHttpOrigin({ urlTemplate: `${base}/../{key}` }), TypeError);
  assert.throws(() => createHttpOrigin({ urlTemplate: `${base}/{group}` }), TypeError);
  assert.throws(() => createHttpOrigin({ urlTemplate: "ftp://x/{key}" }), TypeError);
  assert.throws(() => createHttpOrigin({ urlTemplate: "not a url {key}" }), TypeError);
});
