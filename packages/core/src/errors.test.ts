import assert from "node:assert/strict";
import { it } from "node:test";
import { GeeCacheError } from "./errors.ts";

it("instanceof GeeCacheError holds for errors of another copy of the package, and only for them", async () => {
  // A query string makes a second instance of the module, as a second installed copy would.
  const other = (await import(`./errors.ts?copy=${Date.now()}`)) as typeof import("./errors.ts");
  assert.notEqual(other.GeeCacheError, GeeCacheError);
  const foreign = new other.GeeCacheError("NOT_FOUND", "gone");
  assert.ok(foreign instanceof GeeCacheError);
  assert.equal(GeeCacheError.from(foreign), foreign);
  assert.ok(new GeeCacheError("INTERNAL", "x") instanceof other.GeeCacheError);
  assert.ok(!(new Error("x") instanceof GeeCacheError));
  assert.ok(!((null as unknown as object) instanceof GeeCacheError));
  assert.ok(!({ code: "NOT_FOUND" } instanceof GeeCacheError));
});
