import {
  BeforeApplicationShutdown,
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
import { DataSource, type MixedList } from 'typeorm';
import {
  createServiceDataSource,
  HealthRegistry,
  initializeServiceDatabase,
  LOGGER,
  Metrics,
  PLATFORM_CONFIG,
  RETENTION_EVERY_MS,
  schemaFor,
  type Logger,
  type PlatformConfig,
} from '@trace/platform';
import { EmbeddedTransport } from './embedded-transport';
import { InboxDispatcher, TableDeadLetterSink } from './inbox';
import { KafkaTransport } from './kafka-transport';
import { MESSAGING_MIGRATIONS } from './migrations';
import { Outbox, outboxChannel } from './outbox';
import { OutboxRelay } from './relay';
import { MessagingRetention } from './retention';
import type { EventTransport } from './types';

export const EVENT_TRANSPORT = Symbol('EVENT_TRANSPORT');
export const SERVICE_NAME = Symbol('SERVICE_NAME');

export function createTransport(config: PlatformConfig, logger: Logger, clientId: string, metrics?: Metrics): EventTransport {
  if (config.RUN_MODE === 'embedded' && !config.KAFKA_BROKERS) return new EmbeddedTransport();
  if (!config.KAFKA_BROKERS) throw new Error('KAFKA_BROKERS is required in distributed mode');
  const lag = metrics?.gauge(
    'kafka_consumer_lag',
    'Messages of a partition this consumer group has not consumed yet (from its own fetch responses)',
    ['consumer_group', 'topic', 'partition'],
  );
  return new KafkaTransport({
    brokers: config.KAFKA_BROKERS.split(','),
    clientId: config.KAFKA_CLIENT_ID ?? clientId,
    idempotent: config.KAFKA_IDEMPOTENT,
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
    logger,
    onLag: lag
      ? (group, topic, partition, value) => {
          const labels = { consumer_group: group, topic, partition: String(partition) };
          if (value === undefined) lag.remove(labels);
          else lag.set(labels, value);
        }
      : undefined,
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
          inject: [PLATFORM_CONFIG, LOGGER, HealthRegistry, Metrics],
          useFactory: (config: PlatformConfig, logger: Logger, health: HealthRegistry, metrics: Metrics) => {
            const transport = opts.transport ?? createTransport(config, logger, opts.clientId, metrics);
            health.register('broker', () => transport.health());
            return transport;
          },
        },
        {
          provide: 'TRANSPORT_CLOSER',
          inject: [EVENT_TRANSPORT, LOGGER],
          useFactory: (t: EventTransport, logger: Logger) => ({
            // Once per process, however many services it hosts.
            beforeApplicationShutdown: () => logger.info('shutting down: not ready, stopping consumers'),
            onApplicationShutdown: () => t.close(),
          }),
        },
      ],
      exports: [EVENT_TRANSPORT],
    };
  }
}

export interface ServiceRuntimeOptions {
  service: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations?: MixedList<Function | string>;
}

/**
 * Starts what a service owns once its handlers are registered: the outbox
 * relay and its consumer subscription.
 *
 * Graceful shutdown (SIGTERM; Nest calls the hooks in this order):
 * 1. beforeApplicationShutdown: readiness turns 503 (load balancers stop
 *    sending), consumers stop fetching and finish the messages in flight
 *    (their offsets are committed). HTTP requests still being served finish
 *    next, when Nest closes the server.
 * 2. onApplicationShutdown, after the HTTP server closed, before the
 *    transport closes (MessagingModule is global: its hooks run last): the
 *    relay stops, then drains the outbox once, so every event committed by
 *    a request or a handler is published before exit. What fails to publish
 *    stays unsent and goes out at the next start; nothing is lost either way.
 * 3. The database closes.
 */
@Injectable()
class ServiceRuntimeLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  /** Deletes sent outbox rows and inbox rows past their retention, hourly. */
  private retention?: MessagingRetention;

  constructor(
    @Inject(OutboxRelay) private readonly relay: OutboxRelay,
    @Inject(InboxDispatcher) private readonly inbox: InboxDispatcher,
    @Inject(EVENT_TRANSPORT) private readonly transport: EventTransport,
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(SERVICE_NAME) private readonly service: string,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {}

  async onApplicationBootstrap() {
    const topics = this.inbox.topics();
    // The consumer group is the service (its replicas share the partitions);
    // deployments that share a broker and a database under different schema
    // prefixes (tests) get a group each, like their schemas.
    const group = schemaFor(this.inbox.consumer, this.config.DB_SCHEMA_PREFIX);
    if (topics.length > 0) {
      await this.transport.subscribe(
        group,
        topics,
        (m) => this.inbox.dispatch(m),
        (ms) => this.inbox.dispatchBatch(ms),
      );
    }
    this.relay.start();
    this.retention = new MessagingRetention(this.dataSource, {
      service: this.service,
      outboxMs: this.config.OUTBOX_RETENTION_HOURS * 3_600_000,
      inboxMs: this.config.INBOX_RETENTION_HOURS * 3_600_000,
      everyMs: RETENTION_EVERY_MS,
      logger: this.logger,
    });
    this.retention.start();
  }

  async beforeApplicationShutdown() {
    this.health.register('shutdown', async () => ({ ok: false, detail: 'shutting down' }));
    // A host of nine services runs this nine times; the host announces it once (TRANSPORT_CLOSER).
    this.logger.debug({ service: this.service }, 'shutting down: not ready, stopping consumers');
    await this.transport.stopConsuming?.();
    this.logger.debug({ service: this.service }, 'consumers stopped; finishing HTTP requests in flight');
  }

  async onApplicationShutdown() {
    await this.retention?.stop();
    await this.relay.stop();
    // In-process delivery would hand the events to handlers whose databases
    // may already be closed; embedded, unsent rows simply go out at the next start.
    if (this.transport.kind === 'kafka' && this.dataSource.isInitialized) {
      try {
        const flushed = await this.relay.drain();
        this.logger.info({ flushed }, 'outbox flushed before shutdown');
      } catch (err) {
        this.logger.warn({ err }, 'outbox flush at shutdown failed; unsent events go out at the next start');
      }
    }
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
            preparedStatements: config.DB_PREPARED_STATEMENTS,
            // Every statement is SQL of its own; no table is mapped to an entity.
            entities: [],
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
          const steps = metrics.histogram('outbox_relay_step_seconds', 'Time of each step of a relay pass that sent rows', ['service', 'step'], [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10]);
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
            onPassTimed: ({ claim, publish, mark }) => {
              steps.observe({ service: opts.service, step: 'claim' }, claim);
              steps.observe({ service: opts.service, step: 'publish' }, publish);
              steps.observe({ service: opts.service, step: 'mark' }, mark);
            },
          });
        },
      },
      {
        // Outbox backlog, read at scrape time: how many events wait for the
        // relay and how long the oldest has waited (alert on the age: a
        // growing backlog with a steady age is load, a growing age is a stuck relay).
        provide: 'OUTBOX_BACKLOG_METRICS',
        inject: [DataSource, Metrics],
        useFactory: (ds: DataSource, metrics: Metrics) => {
          // Both gauges come from one query: a scrape collects them at once, so they share the one in flight.
          let inFlight: Promise<{ unsent: number; age: number }> | undefined;
          const read = () =>
            (inFlight ??= ds
              .query(
                `SELECT count(*)::int AS unsent, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS age
                   FROM outbox WHERE sent_at IS NULL`,
              )
              .then((rows: { unsent: number; age: number }[]) => rows[0])
              .finally(() => (inFlight = undefined)));
          metrics.scrapedGauge('outbox_unsent_events', 'Outbox rows not yet published', ['service'], async (g) => {
            if (ds.isInitialized) g.set({ service: opts.service }, (await read()).unsent);
          });
          metrics.scrapedGauge('outbox_oldest_unsent_age_seconds', 'Age of the oldest unpublished outbox row (0 when none)', ['service'], async (g) => {
            if (ds.isInitialized) g.set({ service: opts.service }, (await read()).age);
          });
          return true;
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
