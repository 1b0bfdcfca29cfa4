import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import { ByteView } from "./byte-view.ts";
import { adoptBytes, bytesOf } from "./internal.ts";

describe("ByteView", () => {
  it("copies in: changing the source does not change the view", () => {
    const src = new Uint8Array([1, 2, 3]);
    const v = ByteView.from(src);
    src[0] = 9;
    assert.deepEqual([...v.toUint8Array()], [1, 2, 3]);
  });

  it("copies out: changing what it returned does not change the view", () => {
    const v = ByteView.from("abc");
    v.toUint8Array()[0] = 0;
    v.toBuffer()[1] = 0;
    assert.equal(v.toString(), "abc");
  });

  it("decodes UTF-8 and counts bytes, not characters", () => {
    const v = ByteView.from("héllo €");
    assert.equal(v.byteLength, Buffer.byteLength("héllo €"));
    assert.equal(v.toString(), "héllo €");
    assert.equal(JSON.stringify({ v }), '{"v":"héllo €"}');
  });

  it("compares bytes with views, bytes and strings", () => {
    const v = ByteView.from("abc");
    assert.ok(v.equals(ByteView.from(new Uint8Array([97, 98, 99]))));
    assert.ok(v.equals("abc"));
    assert.ok(v.equals(Buffer.from("abc")));
    assert.ok(!v.equals("abd"));
    assert.ok(!v.equals("ab"));
  });

  it("slices and indexes without exposing memory", () => {
    const v = ByteView.from("hello", { expiresAtMs: 5 });
    const s = v.slice(1, 3);
    assert.equal(s.toString(), "el");
    assert.equal(s.expiresAtMs, 5);
    assert.equal(v.at(0), 104);
    assert.equal(v.at(-1), 111);
    assert.equal(v.at(10), undefined);
  });

  it("carries an expiry and rejects a non-finite one", () => {
    assert.equal(ByteView.from("x", { expiresAtMs: 123 }).expiresAtMs, 123);
    assert.equal(ByteView.from("x").expiresAtMs, undefined);
    assert.throws(() => ByteView.from("x", { expiresAtMs: Number.NaN }), RangeError);
    assert.throws(() => ByteView.from(42 as unknown as string), TypeError);
  });

  it("internal bytesOf and adoptBytes skip the copies", () => {
    const raw = new Uint8Array([1, 2]);
    const v = adoptBytes(raw, 7);
    assert.equal(bytesOf(v), raw);
    assert.equal(v.expiresAtMs, 7);
  });
});
