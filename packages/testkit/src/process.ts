import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";

/**
 * freePort asks the OS for a port that is free right now on host (default 127.0.0.1). Another
 * process could take it before the caller binds it; on loopback in a test that window is small,
 * and it lets a cluster know every peer's address before any of them starts.
 */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("freePort: no TCP address"));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** freePorts returns n distinct free ports on host. */
export async function freePorts(n: number, host = "127.0.0.1"): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort(host));
  return [...ports];
}

/** ExitStatus is how a child process ended. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** SpawnOptions configure spawnProcess. */
export interface SpawnOptions {
  /** A short name used in error messages and as the prefix of echoed output. */
  name?: string;
  /** The executable; defaults to process.execPath (the Node that runs the test). */
  command?: string;
  args: readonly string[];
  /** Extra environment variables, merged over process.env. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /**
   * A line of stdout or stderr that says the process is ready (a substring or a RegExp);
   * spawnProcess resolves once it is seen. Without one it resolves once the process spawned.
   */
  ready?: string | RegExp;
  /** How long to wait for the ready line; 10,000 ms by default. */
  readyTimeoutMs?: number;
  /** Echo the child's output to this process's stderr, prefixed with the name (for debugging). */
  echo?: boolean;
}

/** Spawned is a running child process with its captured output. */
export interface Spawned {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitStatus>;
  /** Every complete line the process printed so far, stdout and stderr interleaved. */
  lines(): readonly string[];
  /** All output so far, joined. */
  output(): string;
  /** Resolves with the first line (already printed or still to come) that matches. */
  waitForLine(match: string | RegExp, timeoutMs?: number): Promise<string>;
  /**
   * stop sends signal (SIGTERM by default) and waits for the exit; after timeoutMs (5,000 by
   * default) it sends SIGKILL. Safe to call more than once and after the process has exited.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitStatus>;
}

// Children still running when the test process exits (a failed assertion, a crash) are killed
// here, so a test run never leaves servers behind holding ports.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const c of live) c.kill("SIGKILL");
    });
  }
  live.add(child);
  child.once("exit", () => live.delete(child));
}

function matches(line: string, match: string | RegExp): boolean {
  return typeof match === "string" ? line.includes(match) : match.test(line);
}

/**
 * spawnProcess starts a child process, captures its output line by line, and (with `ready`)
 * resolves only once it printed its readiness line. It rejects, after killing the child, if the
 * process exits or the timeout passes first; the error carries the output so far.
 */
export async function spawnProcess(options: SpawnOptions): Promise<Spawned> {
  const name = options.name ?? options.args[0] ?? "child";
  const child = spawn(options.command ?? process.execPath, options.args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  track(child);

  const lines: string[] = [];
  const waiters = new Set<{ match: string | RegExp; resolve: (line: string) => void }>();
  const onLine = (line: string) => {
    lines.push(line);
    if (options.echo) process.stderr.write(`[${name}] ${line}\n`);
    for (const w of waiters) {
      if (matches(line, w.match)) {
        waiters.delete(w);
        w.resolve(line);
      }
    }
  };
  for (const stream of [child.stdout, child.stderr]) {
    let partial = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      for (const part of parts) onLine(part);
    });
    stream?.on("end", () => {
      if (partial !== "") onLine(partial);
      partial = "";
    });
  }

  const exited = new Promise<ExitStatus>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  let exitStatus: ExitStatus | undefined;
  void exited.then((s) => {
    exitStatus = s;
  });

  const output = () => lines.join("\n");
  const waitForLine = (match: string | RegExp, timeoutMs = 10_000): Promise<string> => {
    const seen = lines.find((l) => matches(l, match));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      const waiter = {
        match,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      const fail = (why: string) => {
        waiters.delete(waiter);
        clearTimeout(timer);
        reject(new Error(`${name}: ${why} waiting for ${String(match)}; output:\n${output()}`));
      };
      const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
      waiters.add(waiter);
      void exited.then((s) => {
        if (waiters.has(waiter)) fail(`exited (code ${s.code}, signal ${s.signal})`);
      });
    });
  };

  const stop = async (signal: NodeJS.Signals = "SIGTERM", timeoutMs = 5_000) => {
    if (exitStatus !== undefined) return exitStatus;
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  await new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", reject);
  });
  const spawned: Spawned = {
    name,
    child,
    pid: child.pid ?? -1,
    exited,
    lines: () => lines,
    output,
    waitForLine,
    stop,
  };
  if (options.ready !== undefined) {
    try {
      await waitForLine(options.ready, options.readyTimeoutMs);
    } catch (err) {
      await stop("SIGKILL");
      throw err;
    }
  }
  return spawned;
}

/** stopAll stops every process given, in parallel (see Spawned.stop). */
export async function stopAll(
  processes: Iterable<Spawned | undefined>,
  signal: NodeJS.Signals = "SIGTERM",
  timeoutMs?: number,
): Promise<ExitStatus[]> {
  const list = [...processes].filter((p): p is Spawned => p !== undefined);
  return Promise.all(list.map((p) => p.stop(signal, timeoutMs)));
}
