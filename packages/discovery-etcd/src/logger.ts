/**
 * Logger is the subset of pino's API this package accepts from its caller (structurally the same
 * as `@geecache/core`'s Logger). Without one the package stays silent.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = () => {};

/** silentLogger discards everything; it is the default. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
