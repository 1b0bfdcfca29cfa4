import { parseArgs } from "node:util";

const durationUnits: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * parseDuration reads a flag value like "300ms", "30s", "5m", "1h" or "1m30s" into milliseconds.
 * A bare number is milliseconds. Throws RangeError on anything else.
 */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m = part.exec(s); m !== null; m = part.exec(s)) {
    total += Number(m[1]) * durationUnits[m[2]!]!;
    end = part.lastIndex;
  }
  if (end === 0 || end !== s.length) {
    throw new RangeError(`invalid duration ${JSON.stringify(text)}: use e.g. 300ms, 30s, 5m`);
  }
  if (total > Number.MAX_SAFE_INTEGER)
    throw new RangeError(`duration ${JSON.stringify(text)} is too long`);
  return total;
}

const byteUnits: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
};

/**
 * parseBytes reads a size like "64MiB", "512KiB", "1GB", "100k" or "1048576" into bytes
 * (KiB/MiB/GiB and k/m/g are powers of 1024, kB/MB/GB powers of 1000). Throws RangeError.
 */
export function parseBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m === null ? undefined : byteUnits[m[2]!.toLowerCase() || "b"];
  if (m === null || unit === undefined) {
    throw new RangeError(`invalid size ${JSON.stringify(text)}: use e.g. 64MiB, 512KiB, 1GB`);
  }
  const bytes = Math.floor(Number(m[1]) * unit);
  if (bytes > Number.MAX_SAFE_INTEGER)
    throw new RangeError(`size ${JSON.stringify(text)} is too large`);
  return bytes;
}

/**
 * MAX_TIMER_MS is the longest delay Node's timers take, 2^31-1 ms (about 24.8 days); a longer one
 * prints a TimeoutOverflowWarning and fires after 1 ms.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** FlagLimits bound a flag's parsed number: min and max are inclusive. */
export interface FlagLimits {
  /** 0 by default; 1 reads as "must be positive". */
  min?: number;
  /** Number.MAX_SAFE_INTEGER by default for sizes, MAX_TIMER_MS for durations. */
  max?: number;
  /** Why max is the limit, for the message (e.g. "the longest deadline a cache node accepts"). */
  maxReason?: string;
}

/**
 * parseDurationFlag reads the duration value of flag (e.g. "--peer-timeout") like parseDuration
 * and checks it against limits (at most MAX_TIMER_MS by default). Throws RangeError with a
 * message that names the flag.
 */
export function parseDurationFlag(flag: string, text: string, limits: FlagLimits = {}): number {
  // The timer's reason goes only with the timer's limit: a caller's own max has its own reason.
  const timer = limits.max === undefined;
  return checkLimits(flag, text, parseFlag(flag, text, parseDuration), formatDuration, {
    ...limits,
    max: limits.max ?? MAX_TIMER_MS,
    maxReason:
      limits.maxReason ?? (timer ? "the longest timer Node keeps, about 24.8 days" : undefined),
  });
}

/**
 * parseBytesFlag reads the size value of flag (e.g. "--cache-bytes") like parseBytes and checks
 * it against limits. Throws RangeError with a message that names the flag.
 */
export function parseBytesFlag(flag: string, text: string, limits: FlagLimits = {}): number {
  return checkLimits(flag, text, parseFlag(flag, text, parseBytes), (n) => `${n} bytes`, limits);
}

/** logLevels are the levels pino knows, most severe first; "silent" logs nothing. */
export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** LogLevel is one of logLevels. */
export type LogLevel = (typeof logLevels)[number];

/** parseLogLevel checks a --log-level value against logLevels. Throws TypeError. */
export function parseLogLevel(text: string): LogLevel {
  const level = logLevels.find((l) => l === text);
  if (level === undefined) {
    throw new TypeError(`unknown --log-level ${JSON.stringify(text)}: use ${logLevels.join(", ")}`);
  }
  return level;
}

function parseFlag(flag: string, text: string, parse: (text: string) => number): number {
  try {
    return parse(text);
  } catch (err) {
    throw new RangeError(`${flag}: ${(err as Error).message}`);
  }
}

function checkLimits(
  flag: string,
  text: string,
  n: number,
  format: (n: number) => string,
  limits: FlagLimits,
): number {
  const { min = 0, max = Number.MAX_SAFE_INTEGER, maxReason } = limits;
  if (n < min) {
    const bound = min === 1 ? "positive" : `at least ${format(min)}`;
    throw new RangeError(`${flag} must be ${bound}, got ${JSON.stringify(text)}`);
  }
  if (n > max) {
    const why = maxReason === undefined ? "" : ` (${maxReason})`;
    throw new RangeError(
      `${flag} must be at most ${format(max)}${why}, got ${JSON.stringify(text)}`,
    );
  }
  return n;
}

function formatDuration(ms: number): string {
  return ms % 1_000 === 0 ? `${ms / 1_000}s` : `${ms}ms`;
}

/** OptionSpec describes one string flag with its environment variable and default. */
export interface OptionSpec {
  /** Environment variable read when the flag is absent. */
  env?: string;
  default?: string;
  /** Value placeholder and description for --help. */
  arg: string;
  help: string;
}

/**
 * readOptions parses argv against specs (every option takes a string value): a flag wins over its
 * environment variable, which wins over the default. `given` names the options set by a flag or
 * their environment variable, not by a default. Unknown flags and positionals throw TypeError;
 * `--help` / `-h` returns `{ help: true }`.
 */
export function readOptions<K extends string>(
  specs: Record<K, OptionSpec>,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): { help: boolean; values: Record<K, string | undefined>; given: ReadonlySet<K> } {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const name of Object.keys(specs)) options[name] = { type: "string" };
  // `pnpm --filter node start -- --port 8002` hands the script a leading "--", which would
  // otherwise end option parsing and turn every flag into a refused positional.
  const args = argv[0] === "--" ? argv.slice(1) : [...argv];
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new TypeError((err as Error).message);
  }
  const values = {} as Record<K, string | undefined>;
  const given = new Set<K>();
  for (const name of Object.keys(specs) as K[]) {
    const spec = specs[name];
    const flag = parsed.values[name];
    const fromEnv = spec.env === undefined ? undefined : env[spec.env];
    const set =
      (typeof flag === "string" ? flag : undefined) ??
      (fromEnv === undefined || fromEnv === "" ? undefined : fromEnv);
    if (set !== undefined) given.add(name);
    values[name] = set ?? spec.default;
  }
  return { help: parsed.values.help === true, values, given };
}

/** usage renders the --help text of specs. */
export function usage(command: string, specs: Record<string, OptionSpec>): string {
  const rows = Object.entries(specs).map(([name, s]) => {
    const left = `  --${name} ${s.arg}`;
    const extra = [s.env && `env ${s.env}`, s.default !== undefined && `default ${s.default}`]
      .filter(Boolean)
      .join(", ");
    return `${left.padEnd(30)} ${s.help}${extra ? ` (${extra})` : ""}`;
  });
  return [
    `Usage: ${command} [options]`,
    "",
    ...rows,
    `${"  -h, --help".padEnd(30)} this help`,
  ].join("\n");
}

/**
 * parseAddress checks a "host:port" address ("[::1]:8001" for IPv6) and returns it normalized
 * (trimmed, without a scheme, the port without leading zeros). Throws TypeError.
 */
export function parseAddress(text: string): string {
  const s = text
    .trim()
    .replace(/^(?:https?|grpc):\/\//, "")
    .replace(/\/$/, "");
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s/]+):(\d{1,5})$/.exec(s);
  const port = m === null ? 0 : Number(m[2]);
  if (m === null || port < 1 || port > 65_535) {
    throw new TypeError(`invalid address ${JSON.stringify(text)}: want host:port`);
  }
  // The address is a node's identity on the ring, byte for byte: "h:08001" must be "h:8001".
  return `${m[1]}:${port}`;
}

/** parseAddressList reads a comma-separated list of addresses, dropping blanks and duplicates. */
export function parseAddressList(text: string | undefined): string[] {
  if (text === undefined) return [];
  const list = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  return [...new Set(list.map(parseAddress))];
}

/** parsePort reads a TCP port number (0 to 65535). Throws RangeError. */
export function parsePort(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n > 65_535) {
    throw new RangeError(`invalid port ${JSON.stringify(text)}`);
  }
  return n;
}

/**
 * hideUserinfo replaces the user and password of a URL (or URL-like text) with "…", so an error
 * or log line that quotes it shows no password. Like URL parsing, it takes "\\" for "/".
 */
export function hideUserinfo(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:[/\\]*)[^/\\?#]*@/i, "$1…@");
}
