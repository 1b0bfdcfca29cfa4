// Node registration under an etcd lease and watched cluster membership.

export type { EtcdDiscovery, EtcdDiscoveryOptions, EtcdTlsOptions } from "./discovery.ts";
export { createEtcdDiscovery } from "./discovery.ts";
export type { DiscoveryErrorCode } from "./errors.ts";
export { DiscoveryError } from "./errors.ts";
export type { Logger } from "./logger.ts";
export type { MemberWatch, WatchOptions } from "./member-watch.ts";
export type { NodeRecord } from "./record.ts";
export { compareRecords, membersPrefix, parseRecord } from "./record.ts";
export type { RegisterOptions, Registration, RegistrationEvent } from "./registration.ts";
