import { dropSchemas, freePort, KafkaMockCluster, ServiceProcess, testDatabaseUrl, uniquePrefix } from '@trace/testing';
import { Api } from './api';

export const ALL_SERVICES = ['agri', 'food', 'drug', 'material', 'goods', 'lineage', 'recall', 'epcis'] as const;
export type ServiceName = (typeof ALL_SERVICES)[number];
const DOMAIN_SERVICES: readonly string[] = ['agri', 'food', 'drug', 'material', 'goods'];

export interface DistributedDeployment {
  gateway: ServiceProcess;
  services: Partial<Record<ServiceName, ServiceProcess>>;
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
 * process behind the gateway, Kafka between them (the CI broker from
 * KAFKA_BROKERS, or a private Kafka-protocol mock cluster), Redis for the
 * cache. Services not named point at a closed port.
 */
export async function startDistributed(names: ServiceName[], tag = 'e2e'): Promise<DistributedDeployment> {
  const secret = `${tag}-secret-0123456789abcdef0123456789`;
  const prefix = uniquePrefix(tag.replace(/[^a-z0-9]/g, ''));
  let cluster: KafkaMockCluster | undefined;
  let brokers = process.env.KAFKA_BROKERS;
  if (!brokers) {
    cluster = await KafkaMockCluster.start();
    brokers = cluster.bootstrap;
  }
  const common = {
    DATABASE_URL: testDatabaseUrl(),
    DB_SCHEMA_PREFIX: prefix,
    KAFKA_BROKERS: brokers,
    // The test broker has no transaction coordinator; production keeps this on.
    KAFKA_IDEMPOTENT: 'false',
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
  for (const n of names) {
    // Domain services look up identity at the gateway; recall asks lineage for scopes.
    const env: Record<string, string> = DOMAIN_SERVICES.includes(n) || n === 'recall' ? { ...common, ...urls, IDENTITY_URL: gatewayUrl } : { ...common };
    // EPCIS writes to and queries the domain services that run here.
    if (n === 'epcis') Object.assign(env, urls, { EPCIS_DOMAINS: names.filter((x) => DOMAIN_SERVICES.includes(x)).join(',') });
    services[n] = ServiceProcess.spawn(n, `services/${n}/src/main.ts`, env, ports[n]);
  }
  const gateway = ServiceProcess.spawn('gateway', 'services/gateway/src/main.ts', { ...common, ...urls }, ports.gateway);
  const all = [...Object.values(services), gateway] as ServiceProcess[];
  const stop = async () => {
    await Promise.all(all.map((p) => p.stop('SIGTERM').catch(() => p.stop('SIGKILL'))));
    await cluster?.stop();
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
    prefix,
    secret,
    public: new Api(gateway.url),
    as: (orgId, role) => new Api(gateway.url).as(secret, orgId, role),
    stop,
  };
}
