/**
 * Logger is the subset of pino's API that GeeCache libraries accept from their caller.
 * Libraries never create a logger of their own; without one they stay silent and count.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
