import type * as http2 from "node:http2";
import { Http2SessionManager } from "@connectrpc/connect-node";

/** Sessions that already carry the guard listener. */
const guarded = new WeakSet<http2.Http2Session>();
const ignore = () => {};

/**
 * GuardedSessionManager is connect-node's Http2SessionManager with one fix. A GOAWAY on a
 * connection without open streams makes the manager destroy the session with an error, which
 * Node emits once the socket has closed; a call made in between moves the manager to a new
 * connection, and it stops listening to the old one first. The error then has no listener, and
 * an unheard "error" ends the process (connect-es#1768). It happens when a node shuts down
 * under load. Every session this manager opens a stream on keeps a listener of its own; the
 * calls on it learn of its errors through their streams, as before.
 */
export class GuardedSessionManager extends Http2SessionManager {
  /**
   * onStreamLimit hears the number of streams the server allows on each new connection: the
   * one Node assumes (100) until the server's SETTINGS arrive, then the server's own.
   */
  onStreamLimit: ((limit: number) => void) | undefined;

  override async request(
    method: string,
    path: string,
    headers: http2.OutgoingHttpHeaders,
    options: Omit<http2.ClientSessionRequestOptions, "signal">,
  ): Promise<http2.ClientHttp2Stream> {
    const stream = await super.request(method, path, headers, options);
    const session = stream.session;
    if (session !== undefined && !guarded.has(session)) {
      guarded.add(session);
      session.on("error", ignore);
      const report = (settings: http2.Settings) => {
        if (settings.maxConcurrentStreams !== undefined) {
          this.onStreamLimit?.(settings.maxConcurrentStreams);
        }
      };
      report(session.remoteSettings);
      session.on("remoteSettings", report);
    }
    return stream;
  }
}
