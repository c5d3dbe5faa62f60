import 'reflect-metadata';
import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
  validateSync,
} from 'class-validator';

export type RunMode = 'embedded' | 'distributed';

// Anything but a recognised spelling is passed through unchanged, so that
// IsBoolean refuses it: a typo must not silently switch a setting off.
const toBool = ({ value }: { value: unknown }) => {
  if (value === undefined || value === '' || typeof value === 'boolean') return value === '' ? undefined : value;
  const v = String(value).toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  return value;
};
const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : Number(value);

/**
 * Every setting the processes read from the environment, validated once at
 * start-up so a typo fails the boot with a clear message instead of surfacing
 * as a strange error an hour later.
 */
/** An optional base URL of another service: http(s), no spaces; the message names the variable. */
function IsServiceUrl(): PropertyDecorator {
  return (target, key) => {
    IsOptional()(target, key);
    Matches(/^https?:\/\/[^\s]+$/, { message: `${String(key)} must be an http(s):// URL` })(target, key);
  };
}

export class PlatformConfig {
  @IsIn(['embedded', 'distributed'])
  RUN_MODE: RunMode = 'embedded';

  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 8080;

  /** Required in distributed mode; in embedded mode unset means "start embedded PostgreSQL". */
  @ValidateIf((c: PlatformConfig) => c.RUN_MODE === 'distributed' || c.DATABASE_URL !== undefined)
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  DB_POOL_SIZE = 10;

  /**
   * Each connection prepares a statement by name on its second run (StatementCachingClient). Off for a
   * connection pooler that hands one client's statements to several server connections (PgBouncer in
   * transaction mode before 1.21, without max_prepared_statements).
   */
  @Transform(toBool)
  @IsBoolean()
  DB_PREPARED_STATEMENTS = true;

  /** Folder for embedded PostgreSQL data; survives restarts. */
  @IsString()
  EMBEDDED_PG_DIR = '.data/pg';

  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(65535)
  EMBEDDED_PG_PORT = 54329;

  /** Comma-separated host:port list; required in distributed mode. */
  @ValidateIf((c: PlatformConfig) => c.RUN_MODE === 'distributed')
  @Matches(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, { message: 'KAFKA_BROKERS must be host:port[,host:port…]' })
  KAFKA_BROKERS?: string;

  /**
   * Idempotent producer (exactly-once per partition on the broker side). On in
   * production; the librdkafka mock broker used in tests has no transaction
   * coordinator, so tests turn it off.
   */
  @Transform(toBool)
  @IsBoolean()
  KAFKA_IDEMPOTENT = true;

  @IsString()
  @IsOptional()
  KAFKA_CLIENT_ID?: string;

  /**
   * Prepended to every topic name (e.g. `staging.`): several deployments, or
   * test runs, can share one Kafka cluster without reading each other's
   * events. Topics must exist (scripts/create-topics.ts honours it too).
   */
  @Matches(/^[A-Za-z0-9._-]{0,100}$/, { message: 'KAFKA_TOPIC_PREFIX may hold only letters, digits, ".", "_" and "-" (at most 100)' })
  KAFKA_TOPIC_PREFIX = '';

  /** Required in distributed mode (cache, rate limits); embedded mode keeps them in memory. */
  @ValidateIf((c: PlatformConfig) => c.RUN_MODE === 'distributed' || c.REDIS_URL !== undefined)
  @Matches(/^rediss?:\/\/.+/, { message: 'REDIS_URL must be a redis:// URL' })
  REDIS_URL?: string;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** How often a relay looks for unsent outbox rows when nothing woke it. */
  @Transform(toInt)
  @IsInt()
  @Min(5)
  OUTBOX_POLL_MS = 200;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10000)
  OUTBOX_BATCH_SIZE = 200;

  /** Hours a published outbox row is kept (to look into, or to send again by clearing sent_at); 0 keeps them all. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  OUTBOX_RETENTION_HOURS = 168;

  /**
   * Hours an inbox row (the record that an event was applied) is kept; 0 keeps them all. A re-delivery after
   * that is applied again, so it must outlast the topics' retention in Kafka and OUTBOX_RETENTION_HOURS.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  INBOX_RETENTION_HOURS = 720;

  /**
   * Hours a sent (or abandoned) EPCIS subscription delivery is kept; 0 keeps them all. Each holds the whole
   * document it sent, a copy of events the repository keeps anyway; one still being retried is never deleted.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  SUBSCRIPTION_DELIVERY_RETENTION_HOURS = 720;

  /** Attempts for a transient consumer failure before the message is dead-lettered. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  CONSUMER_MAX_ATTEMPTS = 5;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  CONSUMER_RETRY_BASE_MS = 100;

  /** HS256 signing secret for access tokens; required in distributed mode (embedded keeps one in its data folder). */
  @ValidateIf((c: PlatformConfig) => c.RUN_MODE === 'distributed' || c.JWT_SECRET !== undefined)
  @IsString()
  @MinLength(32, { message: 'JWT_SECRET must be at least 32 characters' })
  JWT_SECRET?: string;

  /**
   * Signs the credential services present to each other's internal endpoints
   * (distributed mode), ≥ 32 characters and not JWT_SECRET. Unset: a key
   * derived from JWT_SECRET under a label of its own (still never a client token).
   */
  @ValidateIf((c: PlatformConfig) => c.INTERNAL_SECRET !== undefined)
  @IsString()
  @MinLength(32, { message: 'INTERNAL_SECRET must be at least 32 characters' })
  INTERNAL_SECRET?: string;

  /**
   * Whether service-to-service endpoints (/internal/…) answer over HTTP at
   * all. Unset: only in distributed mode; embedded services call each other
   * in-process and those paths are 404.
   */
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  INTERNAL_HTTP?: boolean;

  /** Token requests per client address and minute (POST /v1/auth/token), shared through Redis when distributed. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  AUTH_RATE_LIMIT = 60;

  /** Wrong secrets for one client id (or AUTH_ADDRESS_FAILURES from one address) before each further try waits 1, 2, 4 … s (at most 15 min). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  AUTH_CLIENT_FAILURES = 5;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  AUTH_ADDRESS_FAILURES = 20;

  /** Secrets checked at once (scrypt) and how many more may wait; past that the token endpoint answers 503 with Retry-After. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  AUTH_SCRYPT_CONCURRENCY = 2;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(10000)
  AUTH_SCRYPT_QUEUE = 16;

  /** Public look-ups (certificate numbers, drug trace codes) per client address and window. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  LOOKUP_RATE_LIMIT = 120;

  /** When set, GET /metrics wants `Authorization: Bearer <METRICS_TOKEN>` (≥ 16 characters). */
  @ValidateIf((c: PlatformConfig) => c.METRICS_TOKEN !== undefined)
  @IsString()
  @MinLength(16, { message: 'METRICS_TOKEN must be at least 16 characters' })
  METRICS_TOKEN?: string;

  /** false: /docs and /docs-json only for an admin token (production). */
  @Transform(toBool)
  @IsBoolean()
  DOCS_PUBLIC = true;

  /**
   * The first admin client (the gateway creates or updates it at start-up).
   * Both or neither; in embedded mode "neither" means: generate one once and
   * print its secret at that start-up.
   */
  @ValidateIf((c: PlatformConfig) => c.BOOTSTRAP_ADMIN_CLIENT_ID !== undefined || c.BOOTSTRAP_ADMIN_CLIENT_SECRET !== undefined)
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
    message: 'BOOTSTRAP_ADMIN_CLIENT_ID must be 1-64 letters, digits, ".", "_" or "-" (and is required with BOOTSTRAP_ADMIN_CLIENT_SECRET)',
  })
  BOOTSTRAP_ADMIN_CLIENT_ID?: string;

  @ValidateIf((c: PlatformConfig) => c.BOOTSTRAP_ADMIN_CLIENT_ID !== undefined || c.BOOTSTRAP_ADMIN_CLIENT_SECRET !== undefined)
  @IsString({ message: 'BOOTSTRAP_ADMIN_CLIENT_SECRET is required with BOOTSTRAP_ADMIN_CLIENT_ID' })
  @MinLength(16, { message: 'BOOTSTRAP_ADMIN_CLIENT_SECRET must be at least 16 characters' })
  @MaxLength(256, { message: 'BOOTSTRAP_ADMIN_CLIENT_SECRET must be at most 256 characters' })
  BOOTSTRAP_ADMIN_CLIENT_SECRET?: string;

  /**
   * Base URL of the gateway's internal identity endpoints, for a service that
   * does not host the gateway module (distributed mode) and must look up
   * organisations and locations.
   */
  @IsServiceUrl()
  IDENTITY_URL?: string;

  /**
   * Base URLs of the other services, for a service that calls them over HTTP
   * (distributed mode): the domains' internal ledger routes (transformation
   * inputs, EPCIS), lineage's recall scope. Checked here, so a malformed one
   * fails at start; a service that cannot work without one names it in
   * runService's `require`, so a missing one fails at start too.
   */
  @IsServiceUrl()
  AGRI_URL?: string;

  @IsServiceUrl()
  FOOD_URL?: string;

  @IsServiceUrl()
  DRUG_URL?: string;

  @IsServiceUrl()
  MATERIAL_URL?: string;

  @IsServiceUrl()
  GOODS_URL?: string;

  @IsServiceUrl()
  LINEAGE_URL?: string;

  /** Prefix for every service schema; tests use it to isolate runs in one database. */
  @Matches(/^([a-z_][a-z0-9_]{0,30})?$/, { message: 'DB_SCHEMA_PREFIX must be a lowercase identifier' })
  DB_SCHEMA_PREFIX = '';

  /** Expose /docs and /docs-json. */
  @Transform(toBool)
  @IsBoolean()
  OPENAPI_ENABLED = true;

  // ---- consumer scan (gateway) and batch QR codes (domain services)

  /**
   * Origin put in front of every Digital Link the system prints (QR codes,
   * linksets), e.g. https://id.example.com. Unset: the origin the request came to.
   */
  @IsOptional()
  @Matches(/^https?:\/\/[^/?#\s@]+$/, { message: 'PUBLIC_BASE_URL must be an http(s) origin without path, e.g. https://id.example.com' })
  PUBLIC_BASE_URL?: string;

  /**
   * Without PUBLIC_BASE_URL: the Host headers a link may be built from
   * (`host` for any port, `host:port`), comma-separated; any other Host gets
   * relative links. The default is this machine only.
   */
  @Matches(/^\s*(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?\s*(,\s*(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?\s*)*$/, {
    message: 'PUBLIC_HOSTS must be a comma-separated list of host or host:port',
  })
  PUBLIC_HOSTS = 'localhost,127.0.0.1,[::1]';

  /** How long a scan answer may live in the cache; events invalidate it sooner. 0 turns the cache off. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(86400)
  SCAN_CACHE_TTL_SECONDS = 300;

  /** Scans one client address may make per window (shared by every gateway through Redis). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  SCAN_RATE_LIMIT = 600;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3600)
  SCAN_RATE_WINDOW_SECONDS = 60;

  /**
   * Reverse proxies in front of the gateway whose X-Forwarded-For entries are
   * trusted (0: use the socket address; a client could forge the header).
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(10)
  TRUST_PROXY_HOPS = 0;
}

/** The other services' base URLs a service may call (see PlatformConfig). */
export const SERVICE_URL_KEYS = ['AGRI_URL', 'FOOD_URL', 'DRUG_URL', 'MATERIAL_URL', 'GOODS_URL', 'LINEAGE_URL'] as const;

/** The base URL of a domain service (AGRI_URL…), from the validated configuration. */
export function domainServiceUrl(config: PlatformConfig | undefined, domain: string): string | undefined {
  const key = `${domain.toUpperCase()}_URL`;
  return (SERVICE_URL_KEYS as readonly string[]).includes(key) ? (config?.[key as (typeof SERVICE_URL_KEYS)[number]] ?? undefined) : undefined;
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<PlatformConfig> = {}): PlatformConfig {
  const known = Object.keys(new PlatformConfig());
  const plain: Record<string, unknown> = {};
  const optional = ['DATABASE_URL', 'KAFKA_BROKERS', 'REDIS_URL', 'KAFKA_CLIENT_ID', 'JWT_SECRET', 'BOOTSTRAP_ADMIN_CLIENT_ID', 'BOOTSTRAP_ADMIN_CLIENT_SECRET', 'IDENTITY_URL', ...SERVICE_URL_KEYS, 'PUBLIC_BASE_URL', 'INTERNAL_SECRET', 'INTERNAL_HTTP', 'METRICS_TOKEN'];
  for (const key of [...known, ...optional]) {
    if (env[key] !== undefined && env[key] !== '') plain[key] = env[key];
  }
  Object.assign(plain, overrides);
  const config = plainToInstance(PlatformConfig, plain);
  const errors = validateSync(config, { forbidUnknownValues: true });
  const problems: string[] = [];
  if (config.INTERNAL_SECRET !== undefined && config.INTERNAL_SECRET === config.JWT_SECRET) {
    problems.push('INTERNAL_SECRET="<redacted>": must differ from JWT_SECRET (a client token must never pass as a service credential)');
  }
  if (errors.length > 0 || problems.length > 0) {
    throw new ConfigError([
      // A secret that fails validation must not end up in the logs that report it.
      ...errors.map((e) => {
        const shown = /SECRET|TOKEN/.test(e.property) && e.value !== undefined ? '"<redacted>"' : JSON.stringify(e.value);
        return `${e.property}=${shown}: ${Object.values(e.constraints ?? {}).join('; ')}`;
      }),
      ...problems,
    ]);
  }
  return config;
}

export const PLATFORM_CONFIG = Symbol('PLATFORM_CONFIG');
