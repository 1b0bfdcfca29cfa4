import { accessSync, constants, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { freePorts, type Spawned, spawnProcess } from "./process.ts";

/** StartEtcdOptions configure startEtcd. */
export interface StartEtcdOptions {
  /** The etcd executable; defaults to $ETCD_BIN, then /usr/bin/etcd, then `etcd` on PATH. */
  binary?: string;
  /** How long to wait for etcd to become healthy; 15,000 ms by default. */
  readyTimeoutMs?: number;
  /** Extra command-line flags, e.g. ["--auto-compaction-retention=1"]. */
  extraArgs?: readonly string[];
  /** Echo etcd's log to stderr (for debugging a failing test). */
  echo?: boolean;
}

/** EtcdServer is a single-member etcd running on free loopback ports with a temporary data dir. */
export interface EtcdServer {
  /** The client URL, e.g. "http://127.0.0.1:41234". */
  readonly endpoint: string;
  readonly dataDir: string;
  /** True between a successful start and stop(). */
  readonly running: boolean;
  /**
   * stop ends etcd (SIGTERM by default; "SIGKILL" simulates a crash) and waits for its exit. The
   * data dir is kept until the test process exits, so restart() can reuse it.
   */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /**
   * restart stops etcd if it runs and starts it again on the same ports, with the same data (or,
   * with wipe, an empty data dir: a fresh cluster that lost everything).
   */
  restart(options?: { wipe?: boolean }): Promise<void>;
}

/** findEtcdBinary returns the etcd executable to run, or throws telling how to install it. */
export function findEtcdBinary(preferred?: string): string {
  const candidates = [preferred, process.env.ETCD_BIN, "/usr/bin/etcd"];
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir !== "") candidates.push(join(dir, "etcd"));
  }
  for (const c of candidates) {
    if (c === undefined || c === "") continue;
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // Not this one; try the next.
    }
  }
  throw new Error(
    "etcd binary not found (looked at $ETCD_BIN, /usr/bin/etcd and PATH). These tests need a real " +
      "etcd 3.4+: install it with `sudo apt-get install etcd-server` (Debian/Ubuntu), or set " +
      "ETCD_BIN to an etcd executable.",
  );
}

const cleanups = new Set<() => void>();
let exitHookInstalled = false;
function onExit(cleanup: () => void): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Runs after process.ts's own hook has SIGKILLed the children; removing the data dir of a
    // killed etcd is safe.
    process.once("exit", () => {
      for (const c of cleanups) c();
    });
  }
  cleanups.add(cleanup);
}

async function waitHealthy(endpoint: string, timeoutMs: number, child: Spawned): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  // The log lines that announce readiness differ between etcd versions and loggers, and come
  // before the member has elected itself leader; /health turns true only once a request can be
  // served, which is what the tests need.
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1_000) });
      const body = (await res.json()) as { health?: string };
      if (body.health === "true") return;
      last = JSON.stringify(body);
    } catch (err) {
      last = String(err);
    }
    if (child.child.exitCode !== null || child.child.signalCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await child.stop("SIGKILL");
  throw new Error(
    `etcd at ${endpoint} did not become healthy within ${timeoutMs} ms (last: ${last}); output:\n${child.output()}`,
  );
}

/**
 * startEtcd runs a single-member etcd on free 127.0.0.1 ports (client and peer) with a temporary
 * data dir, and resolves once it answers /health. It is killed and its data dir removed when the
 * test process exits, even if the test never calls stop(). A missing binary is an error, never a
 * skip.
 */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdServer> {
  const binary = findEtcdBinary(options.binary);
  const [clientPort, peerPort] = await freePorts(2);
  const dataDir = mkdtempSync(join(tmpdir(), "geecache-etcd-"));
  onExit(() => rmSync(dataDir, { recursive: true, force: true }));
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const name = "testkit";
  const args = [
    `--name=${name}`,
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${endpoint}`,
    `--advertise-client-urls=${endpoint}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=${name}=${peerUrl}`,
    "--initial-cluster-state=new",
    "--logger=zap",
    "--log-outputs=stderr",
    ...(options.extraArgs ?? []),
  ];
  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;

  let child: Spawned | undefined;
  const start = async () => {
    const started = await spawnProcess({
      name: `etcd:${clientPort}`,
      command: binary,
      args,
      echo: options.echo,
    });
    await waitHealthy(endpoint, readyTimeoutMs, started);
    child = started;
  };
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    const c = child;
    child = undefined;
    if (c !== undefined) await c.stop(signal);
  };

  await start();
  return {
    endpoint,
    dataDir,
    get running() {
      return child !== undefined;
    },
    stop,
    async restart(opts = {}) {
      await stop();
      if (opts.wipe) {
        rmSync(dataDir, { recursive: true, force: true });
        mkdirSync(dataDir, { recursive: true });
      }
      await start();
    },
  };
}
