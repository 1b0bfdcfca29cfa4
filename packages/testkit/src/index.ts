// Child processes and free ports (owned by the apps work), a real etcd (owned by the discovery work),
// and a seeded PRNG for randomized unit tests.

export * from "./etcd.ts";
export * from "./process.ts";
export * from "./rng.ts";
