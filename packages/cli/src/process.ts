// How the node and the gateway start and end as processes: the exit codes their READMEs promise.
import { MAX_TIMER_MS } from "./options.ts";

/** ProcessLogger is the part of a pino logger that stopProcess writes to. */
export interface ProcessLogger {
  info(msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * logCrashes makes an exception nothing caught (or a rejection nothing handled) a fatal log line,
 * JSON like every other line, with its origin. Node still prints it and exits 1 as it would
 * without: this only watches (uncaughtExceptionMonitor).
 */
export function logCrashes(logger: { fatal(obj: object, msg: string): void }): void {
  process.on("uncaughtExceptionMonitor", (err, origin) => {
    logger.fatal({ err, origin }, "uncaught exception, exiting");
  });
}

/** usageExit reports a bad flag value: one line naming it, the usage, and status 2. */
export function usageExit(command: string, usageText: string, err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${command}: ${message}\n\n${usageText}\n`);
  process.exit(2);
}

/**
 * configOrExit returns what parse reads from the command line. For --help (parse returns
 * undefined) it prints the usage and exits 0; for a bad flag (parse throws) it calls usageExit.
 */
export function configOrExit<C>(command: string, usageText: string, parse: () => C | undefined): C {
  let config: C | undefined;
  try {
    config = parse();
  } catch (err) {
    usageExit(command, usageText, err);
  }
  if (config === undefined) {
    process.stdout.write(`${usageText}\n`);
    process.exit(0);
  }
  return config;
}

/**
 * stopProcess runs an app's shutdown steps and ends the process: status 0 once they finish, 1 if
 * they throw, or if they are still running after deadlineMs (a client or peer that never lets go
 * must not keep a stopping process alive; the exit code says it did not stop cleanly).
 */
export async function stopProcess(
  logger: ProcessLogger,
  deadlineMs: number,
  steps: () => Promise<void>,
): Promise<never> {
  setTimeout(
    () => {
      logger.error({}, "shutdown deadline passed, exiting");
      process.exit(1);
    },
    Math.min(deadlineMs, MAX_TIMER_MS),
  ).unref();
  try {
    await steps();
    logger.info("stopped");
    process.exit(0);
  } catch (err) {
    logger.error({ err }, "shutdown failed");
    process.exit(1);
  }
}
