import { hideUserinfo } from "@geecache/cli";
import { GeeCacheError } from "@geecache/core";

/** HttpOriginOptions configure createHttpOrigin. */
export interface HttpOriginOptions {
  /**
   * The URL of a value, with `{group}` and `{key}` replaced by the URL-encoded group and key,
   * e.g. "http://origin.internal/{group}/{key}". `{key}` is required.
   */
  urlTemplate: string;
  /** Deadline of one fetch, including reading the body; 2,000 ms by default. */
  timeoutMs?: number;
  /** Largest value accepted; a bigger body is a load failure. 1 MiB by default. */
  maxBytes?: number;
  /** The fetch implementation; globalThis.fetch by default. */
  fetch?: typeof fetch;
}

/** OriginValue is what the HTTP origin getter returns for a found key. */
export interface OriginValue {
  value: Uint8Array;
  /** From the origin's `Cache-Control: max-age`, when present and positive. */
  ttlMs?: number;
}

/** HttpOrigin loads values from an HTTP server, the node's second kind of source. */
export type HttpOrigin = (
  key: string,
  ctx: { signal: AbortSignal; group: string },
) => Promise<OriginValue | null>;

/**
 * createHttpOrigin returns a getter that GETs the templated URL: 200 (or 203) is the value (its
 * body bytes), 404 and 410 are "not found" (null), anything else (redirects are not followed), a
 * timeout or a body over maxBytes is a LOAD_FAILED GeeCacheError; a key that cannot be a path
 * segment ("." or "..") is INVALID_ARGUMENT. Throws TypeError on a bad template.
 */
export function createHttpOrigin(options: HttpOriginOptions): HttpOrigin {
  const { urlTemplate } = options;
  const timeoutMs = options.timeoutMs ?? 2_000;
  const maxBytes = options.maxBytes ?? 1 << 20;
  const doFetch = options.fetch ?? globalThis.fetch;
  checkOriginUrlTemplate(urlTemplate);

  return async (key, { signal, group }) => {
    const url = urlTemplate
      .replaceAll("{group}", encodeURIComponent(group))
      .replaceAll("{key}", encodeURIComponent(key));
    // encodeURIComponent leaves "." alone, and URL parsing resolves a "." or ".." segment (even
    // spelled %2E), so such a key would fetch another resource: the parent path, or the group's.
    // No origin path can hold it: the client's key is at fault, not the origin.
    if (hasDotSegment(url)) {
      throw new GeeCacheError(
        "INVALID_ARGUMENT",
        `key ${JSON.stringify(key)} or group ${JSON.stringify(group)} cannot be a segment of the origin URL's path`,
      );
    }
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      // A redirect is not followed: it could lead the cache to another path or host and serve
      // what it found there under this key.
      const res = await doFetch(url, {
        signal: AbortSignal.any([signal, deadline]),
        redirect: "manual",
      });
      if (res.status === 404 || res.status === 410) {
        await res.body?.cancel();
        return null;
      }
      // 200, or 203 (from a transforming proxy): a whole value. 206 is a part, 204 nothing.
      if (res.status !== 200 && res.status !== 203) {
        await res.body?.cancel();
        const what = res.status >= 300 && res.status < 400 ? " (a redirect, not followed)" : "";
        throw new GeeCacheError("LOAD_FAILED", `origin answered ${res.status}${what} for ${url}`);
      }
      const declared = Number(res.headers.get("content-length") ?? Number.NaN);
      if (declared > maxBytes) {
        await res.body?.cancel();
        throw new GeeCacheError(
          "LOAD_FAILED",
          `origin value of ${declared} bytes is over ${maxBytes}`,
        );
      }
      const value = await readCapped(res, maxBytes);
      const ttlMs = maxAgeMs(res.headers.get("cache-control"));
      return ttlMs === undefined ? { value } : { value, ttlMs };
    } catch (err) {
      if (err instanceof GeeCacheError) throw err;
      // The caller's own abort stays a cancellation; our deadline or a network error is the
      // origin's failure.
      if (signal.aborted) throw GeeCacheError.from(err);
      const why = deadline.aborted ? `timed out after ${timeoutMs} ms` : String(err);
      throw new GeeCacheError("LOAD_FAILED", `origin fetch of ${url} failed: ${why}`, {
        cause: err,
      });
    }
  };
}

/**
 * checkOriginUrlTemplate throws a TypeError when template is not an origin URL template
 * createHttpOrigin takes: an http or https URL with `{key}`, without a user or password, with
 * no placeholder in its host and no . or .. path segment.
 */
export function checkOriginUrlTemplate(template: string): void {
  // A password in the template is never repeated in an error.
  const shown = JSON.stringify(hideUserinfo(template));
  if (!template.includes("{key}")) {
    throw new TypeError(`origin URL template ${shown} has no {key}`);
  }
  const example = template.replaceAll("{group}", "g").replaceAll("{key}", "k");
  if (!URL.canParse(example)) {
    throw new TypeError(`origin URL template ${shown} is not a URL`);
  }
  const probe = new URL(example);
  if (probe.protocol !== "http:" && probe.protocol !== "https:") {
    throw new TypeError(`origin URL must be http or https, got ${probe.protocol}`);
  }
  // fetch refuses such a URL on every load, and every failure would log the password.
  if (probe.username !== "" || probe.password !== "") {
    throw new TypeError("origin URL must not hold a user or password");
  }
  // A key in the host would let clients pick which server the cache fetches from.
  const marked = new URL(
    template.replaceAll("{group}", "gcgroupmark").replaceAll("{key}", "gckeymark"),
  );
  if (/gcgroupmark|gckeymark/.test(marked.host)) {
    throw new TypeError(`origin URL template ${shown} has {key} or {group} in its host`);
  }
  if (hasDotSegment(template)) {
    throw new TypeError(`origin URL template ${shown} has a . or .. segment`);
  }
}

async function readCapped(res: Response, maxBytes: number): Promise<Uint8Array> {
  if (res.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of res.body) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      // Leaving the loop early cancels the stream, so the rest is never downloaded.
      throw new GeeCacheError("LOAD_FAILED", `origin value is over ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/** RFC 9111 (1.2.2): a delta-seconds past 2^31 is taken as 2^31. */
const MAX_AGE_CAP_SEC = 2 ** 31;

function maxAgeMs(cacheControl: string | null): number | undefined {
  const m = cacheControl === null ? null : /(?:^|,)\s*max-age=(\d+)/i.exec(cacheControl);
  const seconds = m === null ? 0 : Math.min(Number(m[1]), MAX_AGE_CAP_SEC);
  return seconds > 0 ? seconds * 1_000 : undefined;
}

/**
 * Whether the path of url (scheme and authority skipped, query and fragment cut) has a dot
 * segment. URL parsing takes a backslash for a slash in http(s) URLs, so both separate segments.
 */
function hasDotSegment(url: string): boolean {
  const path = url.replace(/^[a-z][a-z0-9+.-]*:[/\\]{2}[^/\\?#]*/i, "").split(/[?#]/, 1)[0] ?? "";
  return path.split(/[/\\]/).some((s) => s === "." || s === "..");
}
