import { readFileSync } from "node:fs";
import type { OptionSpec } from "./options.ts";
import { hideUserinfo, parseDurationFlag } from "./options.ts";

/**
 * etcdOptionSpecs are the etcd flags the node and the gateway share. Passwords come from the
 * environment only, so they never show in `ps`.
 */
export const etcdOptionSpecs = {
  etcd: {
    env: "GEECACHE_ETCD",
    arg: "<url,url,...>",
    help: "etcd endpoints, membership from etcd instead of --peers; auth from ETCD_USERNAME/ETCD_PASSWORD",
  },
  cluster: {
    env: "GEECACHE_CLUSTER",
    default: "default",
    arg: "<name>",
    help: "cluster name: records live under /geecache/<name>/nodes/",
  },
  "etcd-ca": { env: "GEECACHE_ETCD_CA", arg: "<file>", help: "PEM CA bundle for etcd over TLS" },
  "etcd-cert": {
    env: "GEECACHE_ETCD_CERT",
    arg: "<file>",
    help: "PEM client certificate for etcd",
  },
  "etcd-key": { env: "GEECACHE_ETCD_KEY", arg: "<file>", help: "PEM client key for etcd" },
  "etcd-timeout": {
    env: "GEECACHE_ETCD_TIMEOUT",
    default: "3s",
    arg: "<duration>",
    help: "deadline of one etcd call",
  },
} satisfies Record<string, OptionSpec>;

/** EtcdConfig is what createEtcdDiscovery needs from the command line. */
export interface EtcdConfig {
  endpoints: string[];
  cluster: string;
  callTimeoutMs: number;
  auth?: { username: string; password: string };
  tls?: { ca: string; cert?: string; key?: string };
}

/**
 * parseEtcdConfig reads the etcd flags (values from readOptions over etcdOptionSpecs) and the
 * ETCD_USERNAME/ETCD_PASSWORD environment; undefined when --etcd is absent. Throws TypeError or
 * RangeError.
 */
export function parseEtcdConfig(
  values: Readonly<Record<keyof typeof etcdOptionSpecs, string | undefined>>,
  env: Readonly<Record<string, string | undefined>>,
): EtcdConfig | undefined {
  if (values.etcd === undefined) return undefined;
  const endpoints = values.etcd
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => (/^[a-z]+:\/\//.test(s) ? s : `http://${s}`));
  for (const e of endpoints) {
    if (!URL.canParse(e)) {
      // A password in it is never repeated in an error.
      throw new TypeError(`invalid --etcd endpoint ${JSON.stringify(hideUserinfo(e))}`);
    }
    const url = new URL(e);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(`--etcd endpoint ${JSON.stringify(e)} must be http or https`);
    }
    // etcd3 cannot use them, and every log line naming the endpoint would show the password.
    if (url.username !== "" || url.password !== "") {
      throw new TypeError(
        `--etcd endpoint ${url.protocol}//…@${url.host} must not hold a user or password: set ETCD_USERNAME and ETCD_PASSWORD`,
      );
    }
  }
  if (endpoints.length === 0) throw new TypeError("--etcd must name at least one endpoint");
  const cluster = values.cluster ?? "default";
  if (cluster === "" || cluster.includes("/")) {
    throw new TypeError(`invalid --cluster ${JSON.stringify(cluster)}: non-empty, no "/"`);
  }
  const callTimeoutMs = parseDurationFlag("--etcd-timeout", values["etcd-timeout"] ?? "3s", {
    min: 1,
  });
  const config: EtcdConfig = { endpoints, cluster, callTimeoutMs };
  const { ETCD_USERNAME: username, ETCD_PASSWORD: password } = env;
  // One without the other is a deployment mistake that etcd would only report later, as a
  // failed authentication or a permission error on the first write. Empty counts as unset.
  if (!username !== !password) {
    const [set, unset] = username ? ["USERNAME", "PASSWORD"] : ["PASSWORD", "USERNAME"];
    throw new TypeError(`ETCD_${set} is set but ETCD_${unset} is not; etcd auth needs both`);
  }
  if (username && password) config.auth = { username, password };
  if (values["etcd-ca"] !== undefined) {
    config.tls = { ca: readPem(values["etcd-ca"], "--etcd-ca") };
    if (values["etcd-cert"] !== undefined)
      config.tls.cert = readPem(values["etcd-cert"], "--etcd-cert");
    if (values["etcd-key"] !== undefined)
      config.tls.key = readPem(values["etcd-key"], "--etcd-key");
  } else if (values["etcd-cert"] !== undefined || values["etcd-key"] !== undefined) {
    throw new TypeError("--etcd-cert and --etcd-key need --etcd-ca");
  }
  return config;
}

function readPem(path: string, flag: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new TypeError(`${flag}: cannot read ${path}: ${(err as Error).message}`);
  }
}
