// Child processes and free ports (owned by the apps work), a real etcd (owned by the discovery work),
// a seeded PRNG for randomized unit tests, and README code blocks for tests that check them.

export * from "./etcd.ts";
export * from "./markdown.ts";
export * from "./process.ts";
export * from "./rng.ts";
