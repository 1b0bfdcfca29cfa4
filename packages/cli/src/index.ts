export { type EtcdConfig, etcdOptionSpecs, parseEtcdConfig } from "./etcd.ts";
export {
  type OptionSpec,
  parseAddress,
  parseAddressList,
  parseBytes,
  parseDuration,
  parsePort,
  readOptions,
  usage,
} from "./options.ts";
