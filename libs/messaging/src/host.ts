import { Module, type DynamicModule, type INestApplication, type Type } from '@nestjs/common';
import type { RequestHandler } from 'express';
import {
  AuditModule,
  ConfigError,
  createHttpApp,
  createLogger,
  IdempotencyModule,
  loadConfig,
  Metrics,
  PlatformModule,
  type Logger,
  type PlatformConfig,
} from '@trace/platform';
import { MessagingModule } from './messaging.module';
import type { EventTransport } from './types';

export interface HostOptions {
  name: string;
  config: PlatformConfig;
  logger: Logger;
  modules: (Type<unknown> | DynamicModule)[];
  /** For tests: share one transport or metrics registry between apps. */
  transport?: EventTransport;
  metrics?: Metrics;
  preMiddleware?: RequestHandler[];
  shutdownHooks?: boolean;
  /** false: GET /v1/audit is answered by one of `modules` (the gateway merging every service's log). */
  auditController?: boolean;
}

@Module({})
class HostModule {
  static with(opts: HostOptions): DynamicModule {
    return {
      module: HostModule,
      imports: [
        PlatformModule.forRoot({ config: opts.config, logger: opts.logger, metrics: opts.metrics }),
        MessagingModule.forRoot({ clientId: `trace-${opts.name}`, transport: opts.transport }),
        IdempotencyModule.forHost(opts.name),
        AuditModule.forHost(opts.name, { controller: opts.auditController !== false }),
        ...opts.modules,
      ],
    };
  }
}

/** Builds (but does not start listening) an HTTP app hosting the given service modules. */
export async function createHostApp(opts: HostOptions): Promise<INestApplication> {
  const app = await createHttpApp(HostModule.with(opts), {
    config: opts.config,
    logger: opts.logger,
    title: `trace ${opts.name}`,
    preMiddleware: opts.preMiddleware,
    shutdownHooks: opts.shutdownHooks,
  });
  await app.init();
  return app;
}

/**
 * Entry point of one service in distributed mode: validated config from the
 * environment (fails fast), one module, its own port.
 */
export interface RunServiceOptions {
  /** Settings optional in general but required by this service (checked with the rest, exit 78 when missing). */
  require?: (keyof PlatformConfig)[];
  overrides?: Partial<PlatformConfig>;
}

export async function runService(
  name: string,
  modules: Type<unknown> | (Type<unknown> | DynamicModule)[],
  opts: RunServiceOptions = {},
): Promise<INestApplication> {
  let config: PlatformConfig;
  const logger = createLogger(process.env.LOG_LEVEL, { service: name });
  try {
    config = loadConfig(process.env, { RUN_MODE: 'distributed', ...opts.overrides });
    const missing = (opts.require ?? []).filter((k) => config[k] === undefined || config[k] === '');
    if (missing.length) throw new ConfigError(missing.map((k) => `${String(k)} is required by ${name}`));
  } catch (err) {
    logger.fatal((err as Error).message);
    process.exit(78); // EX_CONFIG
  }
  const app = await createHostApp({ name, config, logger, modules: Array.isArray(modules) ? modules : [modules] });
  await app.listen(config.PORT);
  logger.info({ port: config.PORT, mode: config.RUN_MODE }, `${name} listening`);
  return app;
}
