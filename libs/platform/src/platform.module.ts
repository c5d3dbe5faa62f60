import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard, SERVICE_CREDENTIALS, ServiceCredentials, TOKEN_REVOCATIONS, TOKEN_SERVICE, TokenRevocations, TokenService } from './auth';
import { CACHE_STORE, MemoryCache, RedisCache, type CacheStore } from './cache';
import { PLATFORM_CONFIG, type PlatformConfig } from './config';
import { FastAnswers } from './fast-answers';
import { HealthController, HealthRegistry } from './health';
import { HttpDrain } from './http-drain';
import { LOGGER, type Logger } from './logging';
import { Metrics, MetricsController } from './metrics';
import { LookupRateLimitGuard, LookupRateLimiter } from './rate-limit';
import { REQUEST_BUDGETS, RequestBudgets } from './request-budget';

export interface PlatformModuleOptions {
  config: PlatformConfig;
  logger: Logger;
  /** Process-wide Prometheus registry (tests create several apps in one process). */
  metrics?: Metrics;
}

/**
 * What every process has once, whichever services it hosts: config, logger,
 * metrics, health, cache and the token verifier.
 */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(opts: PlatformModuleOptions): DynamicModule {
    const { config, logger } = opts;
    const health = new HealthRegistry();
    const cache: CacheStore = config.REDIS_URL ? new RedisCache(config.REDIS_URL) : new MemoryCache();
    health.register('cache', async () => ({ ok: await cache.ping(), detail: cache.kind }));
    const tokens = config.JWT_SECRET ? new TokenService(config.JWT_SECRET) : undefined;
    const services = config.JWT_SECRET ? new ServiceCredentials(config.JWT_SECRET, config.INTERNAL_SECRET) : undefined;
    const budgets = RequestBudgets.fromConfig(config, logger);
    const revocations = new TokenRevocations(cache, config.DB_SCHEMA_PREFIX, tokens?.ttl ?? 3600);
    return {
      module: PlatformModule,
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: PLATFORM_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: Metrics, useValue: opts.metrics ?? new Metrics() },
        { provide: HealthRegistry, useValue: health },
        { provide: FastAnswers, useValue: new FastAnswers() },
        {
          provide: CACHE_STORE,
          useFactory: () => cache,
        },
        {
          provide: TOKEN_SERVICE,
          useFactory: () => {
            if (!tokens) throw new Error('JWT_SECRET is not configured');
            return tokens;
          },
        },
        {
          provide: SERVICE_CREDENTIALS,
          useFactory: () => {
            if (!services) throw new Error('JWT_SECRET is not configured');
            return services;
          },
        },
        { provide: TOKEN_REVOCATIONS, useValue: revocations },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: REQUEST_BUDGETS, useValue: budgets },
        LookupRateLimiter,
        { provide: APP_GUARD, useClass: LookupRateLimitGuard },
        HttpDrain,
        {
          // Closes the cache connection with the app.
          provide: 'CACHE_CLOSER',
          useFactory: () => ({
            onApplicationShutdown: () => {
              budgets.close();
              return cache.close();
            },
          }),
        },
      ],
      exports: [PLATFORM_CONFIG, LOGGER, Metrics, HealthRegistry, FastAnswers, CACHE_STORE, TOKEN_SERVICE, SERVICE_CREDENTIALS, TOKEN_REVOCATIONS, REQUEST_BUDGETS, LookupRateLimiter],
    };
  }
}
