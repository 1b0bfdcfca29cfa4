// A node process for the tests: registers one record, prints "registered <lease>", and on
// SIGTERM closes the registration (deleting the record) and exits. SIGKILL leaves it to the TTL.
import { createEtcdDiscovery } from "../discovery.ts";

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};

const discovery = createEtcdDiscovery({
  endpoints: [env("ETCD_ENDPOINT")],
  cluster: env("CLUSTER"),
});
const registration = await discovery.register(
  { id: env("NODE_ID"), address: env("NODE_ADDRESS") },
  { ttlSec: Number(env("TTL_SEC")) },
);
const keepAlive = setInterval(() => {}, 60_000);
process.once("SIGTERM", async () => {
  clearInterval(keepAlive);
  await discovery.close();
  process.exit(0);
});
// Announce only once the handler is installed: the test may signal as soon as it reads this line.
console.log(`registered ${registration.leaseId}`);
