import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';
import { RequestContext } from './context';

/**
 * Where a logger's lines go: standard output through one SonicBoom, written
 * synchronously, except request lines (`deferred`), which wait in a bounded
 * buffer for at most FLUSH_MS. A write per request cost about 7 % of the CPU
 * of a cached scan; a write per FLUSH_MS costs nothing measurable.
 *
 * Every other line (any level, from anywhere) first writes out the waiting
 * request lines, then itself, synchronously: order is kept, and what is logged
 * around a failure or a shutdown is on its way out before the next statement
 * runs. On SIGTERM Nest runs the shutdown hooks and then re-raises the signal,
 * and a death by signal runs no exit handler: an asynchronous writer would lose
 * exactly the shutdown's own lines ("outbox flushed", "flush failed"). The most
 * a death by signal can cost here is the last FLUSH_MS of successful request
 * lines; a request that failed (5xx) logs at error level, synchronously.
 */
class LogSink {
  static readonly FLUSH_MS = 200;
  static readonly MAX_PENDING = 64 * 1024;
  private pending = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly out: ReturnType<typeof pino.destination>) {
    SINKS.add(this);
  }

  /** A line written now (after the request lines waiting before it). */
  write(line: string): void {
    if (this.pending) this.flush();
    this.out.write(line);
  }

  /** A request line: written with the next line, the next flush, or on exit. */
  defer(line: string): void {
    this.pending += line;
    if (this.pending.length >= LogSink.MAX_PENDING) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), LogSink.FLUSH_MS).unref();
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.pending) return;
    const lines = this.pending;
    this.pending = '';
    this.out.write(lines);
  }
}

const SINKS = new Set<LogSink>();
// process.exit() (the embedded app's stop, a failed start) runs 'exit' listeners: the last request lines go out.
process.once('exit', () => {
  for (const sink of SINKS) sink.flush();
});

const SINK_OF = new WeakMap<Logger, LogSink>();

function pinoOptions(level: string, base: Record<string, unknown>): pino.LoggerOptions {
  return {
    level,
    base: { pid: process.pid, ...base },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin() {
      const ctx = RequestContext.current();
      return ctx ? { correlationId: ctx.correlationId, causationId: ctx.causationId } : {};
    },
  };
}

/**
 * One JSON logger per process. The mixin stamps every line with the
 * correlation id of the work in progress, for HTTP and Kafka alike. Lines are
 * written synchronously (see LogSink); `requestLogger(logger)` gives the one
 * for per-request lines, which are batched.
 */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info', base: Record<string, unknown> = {}): Logger {
  const sink = new LogSink(pino.destination({ dest: 1, sync: true }));
  const logger = pino(pinoOptions(level, base), { write: (line: string) => sink.write(line) });
  const requests = pino(pinoOptions(level, base), { write: (line: string) => sink.defer(line) });
  SINK_OF.set(logger, sink);
  REQUEST_LOGGER_OF.set(logger, requests);
  return logger;
}

const REQUEST_LOGGER_OF = new WeakMap<Logger, Logger>();

/**
 * The logger for one line per answered request: `logger`'s own settings, its
 * lines batched (error lines are not request lines: log those on `logger`).
 * A logger not made by createLogger (a test's) is returned as it is.
 */
export function requestLogger(logger: Logger): Logger {
  return REQUEST_LOGGER_OF.get(logger) ?? logger;
}

/** Writes out `logger`'s waiting request lines now (tests read them; a process about to be killed). */
export function flushLogs(logger: Logger): void {
  SINK_OF.get(logger)?.flush();
}

/**
 * Nest's start-up chatter (one line per module and per route, some 200 lines)
 * would bury what a person starting the app needs to read: debug level.
 */
const STARTUP_CHATTER = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

/** Routes Nest's own logging into pino. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    if (context && STARTUP_CHATTER.has(context)) this.logger.debug({ context }, String(message));
    else this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}

export const LOGGER = Symbol('LOGGER');
export type { Logger };
