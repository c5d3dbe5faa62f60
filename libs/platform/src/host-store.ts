import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit, type Type } from '@nestjs/common';
import { HealthRegistry } from './health';
import { LOGGER, type Logger } from './logging';

/** A table set a host keeps in a schema of its own (idempotency keys, the audit log). */
export interface HostStore {
  start(logger?: Logger): Promise<void>;
  ping(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The lifecycle every host store shares: started with the module (its
 * migrations run), part of readiness as `healthName`, stopped with the app.
 * A null store (no database configured) does nothing.
 */
export function hostStoreLifecycle(store: Type<HostStore>, healthName: string): Type<OnModuleInit & OnApplicationShutdown> {
  @Injectable()
  class HostStoreLifecycle implements OnModuleInit, OnApplicationShutdown {
    constructor(
      @Inject(store) private readonly store: HostStore | null,
      @Inject(LOGGER) private readonly logger: Logger,
      @Inject(HealthRegistry) private readonly health: HealthRegistry,
    ) {}
    async onModuleInit() {
      const s = this.store;
      if (!s) return;
      await s.start(this.logger);
      this.health.register(healthName, async () => {
        await s.ping();
        return { ok: true };
      });
    }
    async onApplicationShutdown() {
      await this.store?.stop();
    }
  }
  return HostStoreLifecycle;
}
