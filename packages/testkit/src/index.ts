// Child processes and free ports (owned by the apps work) and a real etcd (owned by the discovery work).

export * from "./etcd.ts";
export * from "./process.ts";
