import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';
import { RequestContext } from './context';

/**
 * One JSON logger per process. The mixin stamps every line with the
 * correlation id of the work in progress, for HTTP and Kafka alike.
 *
 * Lines are written synchronously. On SIGTERM Nest runs the shutdown hooks
 * and then re-raises the signal, and a death by signal runs no exit handler:
 * lines still buffered by an asynchronous writer (the shutdown's own: "outbox
 * flushed", "flush failed") would be lost exactly when they matter.
 */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info', base: Record<string, unknown> = {}): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid, ...base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin() {
        const ctx = RequestContext.current();
        return ctx ? { correlationId: ctx.correlationId, causationId: ctx.causationId } : {};
      },
    },
    pino.destination({ dest: 1, sync: true }),
  );
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
