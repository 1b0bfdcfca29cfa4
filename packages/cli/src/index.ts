export { type EtcdConfig, etcdOptionSpecs, parseEtcdConfig } from "./etcd.ts";
export {
  Histogram,
  type Labels,
  PROMETHEUS_CONTENT_TYPE,
  PromText,
  type Sample,
} from "./metrics.ts";
export {
  type FlagLimits,
  hideUserinfo,
  type LogLevel,
  logLevels,
  MAX_TIMER_MS,
  type OptionSpec,
  parseAddress,
  parseAddressList,
  parseBytes,
  parseBytesFlag,
  parseDuration,
  parseDurationFlag,
  parseLogLevel,
  parsePort,
  readOptions,
  usage,
} from "./options.ts";
export {
  configOrExit,
  logCrashes,
  type ProcessLogger,
  stopProcess,
  usageExit,
} from "./process.ts";
