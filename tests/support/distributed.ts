import { dropSchemas, dropTopics, freePort, KafkaMockCluster, ServiceProcess, sharedKafka, testDatabaseUrl, uniquePrefix } from '@trace/testing';
import { Api } from './api';

export const ALL_SERVICES = ['agri', 'food', 'drug', 'material', 'goods', 'lineage', 'recall', 'epcis'] as const;
export type ServiceName = (typeof ALL_SERVICES)[number];
const DOMAIN_SERVICES: readonly string[] = ['agri', 'food', 'drug', 'material', 'goods'];

export interface DistributedDeployment {
  gateway: ServiceProcess;
  services: Partial<Record<ServiceName, ServiceProcess>>;
  /** The environment a service was started with (to start it again after a stop or a kill). */
  env(name: ServiceName): NodeJS.ProcessEnv;
  /**
   * Stops a service with `signal` (SIGTERM: graceful; SIGKILL: a crash), runs
   * `whileDown`, then starts it again on the same port and waits until it is ready.
   */
  restart(name: ServiceName, signal: 'SIGTERM' | 'SIGKILL', whileDown?: () => Promise<void>): Promise<{ exitCode: number | null; down: ServiceProcess }>;
  /** Schema prefix of this deployment in the test database. */
  prefix: string;
  secret: string;
  /** Anonymous client of the gateway. */
  public: Api;
  /** A client of the gateway acting as `orgId` with `role` (tokens signed with the deployment's secret). */
  as(orgId: string, role: 'operator' | 'inspector' | 'regulator' | 'admin'): Api;
  stop(): Promise<void>;
}

/**
 * Distributed mode as an operator runs it: each named service its own
 * process behind the gateway, Kafka between them (the run's Apache Kafka from
 * KAFKA_BROKERS, or a private Kafka-protocol mock cluster), Redis for the
 * cache. Services not named point at a closed port.
 */
export interface DistributedOptions {
  /** Extra environment per service (e.g. relay pacing for a shutdown test). */
  env?: Partial<Record<ServiceName | 'gateway', NodeJS.ProcessEnv>>;
}

export async function startDistributed(names: ServiceName[], tag = 'e2e', opts: DistributedOptions = {}): Promise<DistributedDeployment> {
  const secret = `${tag}-secret-0123456789abcdef0123456789`;
  const prefix = uniquePrefix(tag.replace(/[^a-z0-9]/g, ''));
  // The run's real Apache Kafka, with topics of this deployment's own (created through the admin API
  // as scripts/create-topics.ts does) and the idempotent producer on, as in production; without
  // KAFKA_BROKERS a private mock cluster, which has no transaction coordinator for it.
  let cluster: KafkaMockCluster | undefined;
  const real = await sharedKafka(prefix);
  if (!real) cluster = await KafkaMockCluster.start();
  const common = {
    DATABASE_URL: testDatabaseUrl(),
    DB_SCHEMA_PREFIX: prefix,
    KAFKA_BROKERS: real ? real.brokers.join(',') : cluster!.bootstrap,
    KAFKA_TOPIC_PREFIX: real?.topicPrefix ?? '',
    KAFKA_IDEMPOTENT: real ? 'true' : 'false',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/15',
    JWT_SECRET: secret,
    NODE_ENV: 'test',
  };
  const ports = Object.fromEntries(await Promise.all([...names, 'gateway'].map(async (n) => [n, await freePort()] as const)));
  const closed = 'http://127.0.0.1:9';
  const urls = Object.fromEntries(
    ALL_SERVICES.map((n) => [`${n.toUpperCase()}_URL`, ports[n] ? `http://127.0.0.1:${ports[n]}` : closed]),
  );
  const gatewayUrl = `http://127.0.0.1:${ports.gateway}`;
  const services: DistributedDeployment['services'] = {};
  // Domain services and lineage (FSMA export) look up identity at the gateway; recall asks lineage for scopes;
  // EPCIS writes to and queries the domain services that run here.
  const envOf = (n: ServiceName): NodeJS.ProcessEnv => ({
    ...(DOMAIN_SERVICES.includes(n) || n === 'recall' || n === 'lineage' ? { ...common, ...urls, IDENTITY_URL: gatewayUrl } : { ...common }),
    ...(n === 'epcis' ? { ...urls, EPCIS_DOMAINS: names.filter((x) => DOMAIN_SERVICES.includes(x)).join(',') } : {}),
    ...opts.env?.[n],
  });
  for (const n of names) services[n] = ServiceProcess.spawn(n, `services/${n}/src/main.ts`, envOf(n), ports[n]);
  const gateway = ServiceProcess.spawn('gateway', 'services/gateway/src/main.ts', { ...common, ...urls, ...opts.env?.gateway }, ports.gateway);
  const all = [...Object.values(services), gateway] as ServiceProcess[];
  const stop = async () => {
    await Promise.all(all.map((p) => p.stop('SIGTERM').catch(() => p.stop('SIGKILL'))));
    await cluster?.stop();
    await dropTopics(real).catch(() => undefined);
    await dropSchemas(testDatabaseUrl(), prefix);
  };
  try {
    await Promise.all(all.map((p) => p.ready(90_000)));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    gateway,
    services,
    env: envOf,
    restart: async (n, signal, whileDown) => {
      const down = services[n] as ServiceProcess;
      const exitCode = await down.stop(signal);
      await whileDown?.();
      const up = ServiceProcess.spawn(n, `services/${n}/src/main.ts`, envOf(n), down.port);
      services[n] = up;
      all[all.indexOf(down)] = up;
      await up.ready(90_000);
      return { exitCode, down };
    },
    prefix,
    secret,
    public: new Api(gateway.url),
    as: (orgId, role) => new Api(gateway.url).as(secret, orgId, role),
    stop,
  };
}
