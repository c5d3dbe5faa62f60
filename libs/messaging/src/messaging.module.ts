import {
  DynamicModule,
  Global,
  Inject,
  Injectable,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleInit,
  type Provider,
} from '@nestjs/common';
import { DataSource, type EntitySchema, type MixedList } from 'typeorm';
import {
  createServiceDataSource,
  HealthRegistry,
  initializeServiceDatabase,
  LOGGER,
  Metrics,
  PLATFORM_CONFIG,
  schemaFor,
  type Logger,
  type PlatformConfig,
} from '@trace/platform';
import { EmbeddedTransport } from './embedded-transport';
import { MESSAGING_ENTITIES } from './entities';
import { InboxDispatcher, TableDeadLetterSink } from './inbox';
import { KafkaTransport } from './kafka-transport';
import { MESSAGING_MIGRATIONS } from './migrations';
import { Outbox, outboxChannel } from './outbox';
import { OutboxRelay } from './relay';
import type { EventTransport } from './types';

export const EVENT_TRANSPORT = Symbol('EVENT_TRANSPORT');
export const SERVICE_NAME = Symbol('SERVICE_NAME');

export function createTransport(config: PlatformConfig, logger: Logger, clientId: string): EventTransport {
  if (config.RUN_MODE === 'embedded' && !config.KAFKA_BROKERS) return new EmbeddedTransport();
  if (!config.KAFKA_BROKERS) throw new Error('KAFKA_BROKERS is required in distributed mode');
  return new KafkaTransport({
    brokers: config.KAFKA_BROKERS.split(','),
    clientId: config.KAFKA_CLIENT_ID ?? clientId,
    idempotent: config.KAFKA_IDEMPOTENT,
    logger,
  });
}

/** The process-wide transport: in-process in embedded mode, Kafka otherwise. */
@Global()
@Module({})
export class MessagingModule {
  static forRoot(opts: { clientId: string; transport?: EventTransport }): DynamicModule {
    return {
      module: MessagingModule,
      providers: [
        {
          provide: EVENT_TRANSPORT,
          inject: [PLATFORM_CONFIG, LOGGER, HealthRegistry],
          useFactory: (config: PlatformConfig, logger: Logger, health: HealthRegistry) => {
            const transport = opts.transport ?? createTransport(config, logger, opts.clientId);
            health.register('broker', () => transport.health());
            return transport;
          },
        },
        {
          provide: 'TRANSPORT_CLOSER',
          inject: [EVENT_TRANSPORT],
          useFactory: (t: EventTransport) => ({ onApplicationShutdown: () => t.close() }),
        },
      ],
      exports: [EVENT_TRANSPORT],
    };
  }
}

export interface ServiceRuntimeOptions {
  service: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities?: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations?: MixedList<Function | string>;
}

/**
 * Starts what a service owns once its handlers are registered: the outbox
 * relay and its consumer subscription. Stops them before the database closes.
 */
@Injectable()
class ServiceRuntimeLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(OutboxRelay) private readonly relay: OutboxRelay,
    @Inject(InboxDispatcher) private readonly inbox: InboxDispatcher,
    @Inject(EVENT_TRANSPORT) private readonly transport: EventTransport,
    @Inject(DataSource) private readonly dataSource: DataSource,
  ) {}

  async onApplicationBootstrap() {
    const topics = this.inbox.topics();
    if (topics.length > 0) await this.transport.subscribe(this.inbox.consumer, topics, (m) => this.inbox.dispatch(m));
    this.relay.start();
  }

  async onApplicationShutdown() {
    await this.relay.stop();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/** Connects the database on module init so repositories can be used by other providers' onModuleInit. */
@Injectable()
class DatabaseHealth implements OnModuleInit {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject(SERVICE_NAME) private readonly service: string,
  ) {}
  onModuleInit() {
    this.health.register(`database:${this.service}`, async () => {
      await this.dataSource.query('SELECT 1');
      return { ok: true };
    });
  }
}

/**
 * Everything one service owns: its schema (DataSource with migrations), its
 * outbox and relay, its inbox dispatcher. Import once per service module; in
 * embedded mode eight of these live side by side in one process.
 */
@Module({})
export class ServiceRuntimeModule {
  static forService(opts: ServiceRuntimeOptions): DynamicModule {
    const providers: Provider[] = [
      { provide: SERVICE_NAME, useValue: opts.service },
      {
        provide: DataSource,
        inject: [PLATFORM_CONFIG, LOGGER],
        useFactory: async (config: PlatformConfig, logger: Logger) => {
          if (!config.DATABASE_URL) throw new Error('DATABASE_URL is not set');
          const ds = createServiceDataSource({
            service: opts.service,
            url: config.DATABASE_URL,
            schemaPrefix: config.DB_SCHEMA_PREFIX,
            poolSize: config.DB_POOL_SIZE,
            entities: [...MESSAGING_ENTITIES, ...((opts.entities as unknown[]) ?? [])] as never,
            migrations: [...MESSAGING_MIGRATIONS, ...((opts.migrations as unknown[]) ?? [])] as never,
          });
          await initializeServiceDatabase(ds, logger);
          return ds;
        },
      },
      {
        provide: Outbox,
        inject: [PLATFORM_CONFIG],
        useFactory: (config: PlatformConfig) =>
          new Outbox(opts.service, outboxChannel(schemaFor(opts.service, config.DB_SCHEMA_PREFIX))),
      },
      {
        provide: InboxDispatcher,
        inject: [DataSource, EVENT_TRANSPORT, PLATFORM_CONFIG, LOGGER, Metrics],
        useFactory: (ds: DataSource, transport: EventTransport, config: PlatformConfig, logger: Logger, metrics: Metrics) => {
          const consumed = metrics.counter('events_consumed_total', 'Consumed events by outcome', ['consumer', 'topic', 'outcome']);
          return new InboxDispatcher(ds, transport.deadLetterSink(opts.service, new TableDeadLetterSink(ds)), {
            consumer: opts.service,
            maxAttempts: config.CONSUMER_MAX_ATTEMPTS,
            retryBaseMs: config.CONSUMER_RETRY_BASE_MS,
            logger: logger.child({ consumer: opts.service }),
            onOutcome: (outcome, topic) => consumed.inc({ consumer: opts.service, topic, outcome }),
          });
        },
      },
      {
        provide: OutboxRelay,
        inject: [DataSource, EVENT_TRANSPORT, PLATFORM_CONFIG, LOGGER, Metrics],
        useFactory: (ds: DataSource, transport: EventTransport, config: PlatformConfig, logger: Logger, metrics: Metrics) => {
          const published = metrics.counter('events_published_total', 'Events published from the outbox', ['service']);
          const schema = schemaFor(opts.service, config.DB_SCHEMA_PREFIX);
          return new OutboxRelay(ds, transport, {
            service: opts.service,
            schema,
            databaseUrl: config.DATABASE_URL as string,
            notifyChannel: outboxChannel(schema),
            pollMs: config.OUTBOX_POLL_MS,
            batchSize: config.OUTBOX_BATCH_SIZE,
            logger: logger.child({ relay: opts.service }),
            onPublished: (n) => published.inc({ service: opts.service }, n),
          });
        },
      },
      DatabaseHealth,
      ServiceRuntimeLifecycle,
    ];
    return {
      module: ServiceRuntimeModule,
      providers,
      exports: [SERVICE_NAME, DataSource, Outbox, InboxDispatcher, OutboxRelay],
    };
  }
}
