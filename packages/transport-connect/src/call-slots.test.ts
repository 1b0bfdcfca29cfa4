import assert from "node:assert/strict";
import { test } from "node:test";
import { CallSlots } from "./call-slots.ts";

test("CallSlots grants up to its limit at once, then in turn as slots come back", () => {
  const slots = new CallSlots(2);
  const granted: number[] = [];
  for (let i = 0; i < 5; i++) slots.take(() => granted.push(i));
  assert.deepEqual(granted, [0, 1]);
  slots.give();
  assert.deepEqual(granted, [0, 1, 2]);
  slots.give();
  slots.give();
  assert.deepEqual(granted, [0, 1, 2, 3, 4]);
});

test("a withdrawn call never gets a slot, and takes none from the others", () => {
  const slots = new CallSlots(1);
  const granted: string[] = [];
  slots.take(() => granted.push("a"));
  const withdrawB = slots.take(() => granted.push("b"));
  slots.take(() => granted.push("c"));
  withdrawB();
  withdrawB();
  slots.give();
  assert.deepEqual(granted, ["a", "c"]);
  // Withdrawing a call already granted changes nothing.
  const withdrawD = slots.take(() => granted.push("d"));
  slots.give();
  withdrawD();
  slots.give();
  slots.take(() => granted.push("e"));
  assert.deepEqual(granted, ["a", "c", "d", "e"]);
});

test("setLimit adopts the server's limit: a higher one grants the waiting calls", () => {
  const slots = new CallSlots(1);
  const granted: number[] = [];
  for (let i = 0; i < 4; i++) slots.take(() => granted.push(i));
  slots.setLimit(3);
  assert.deepEqual(granted, [0, 1, 2]);
});

test("past thousands of withdrawn waiters (compacted away), a live one is still granted in turn", () => {
  const slots = new CallSlots(1);
  slots.take(() => {});
  let granted = 0;
  for (let i = 0; i < 10_000; i++) slots.take(() => granted++)();
  slots.take(() => granted++);
  slots.give();
  assert.equal(granted, 1);
});
