import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/**
 * What travels with a unit of work (an HTTP request or a consumed message):
 * the correlation id that ties a user action to every event and log line it
 * causes, and the id of the event that caused this work (the causation id).
 */
export interface WorkContext {
  correlationId: string;
  causationId?: string;
  orgId?: string;
}

const storage = new AsyncLocalStorage<WorkContext>();

export const RequestContext = {
  run<T>(ctx: WorkContext, fn: () => T): T {
    return storage.run(ctx, fn);
  },
  current(): WorkContext | undefined {
    return storage.getStore();
  },
  correlationId(): string {
    return storage.getStore()?.correlationId ?? randomUUID();
  },
};

/** Accept a caller's correlation id only if it is a sane token, so logs cannot be injected. */
export function sanitizeCorrelationId(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return /^[A-Za-z0-9._:-]{1,128}$/.test(value) ? value : undefined;
}
