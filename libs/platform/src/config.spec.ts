import { ConfigError, domainServiceUrl, loadConfig, PlatformConfig } from './config';

const SECRET = 's'.repeat(32);
const distributedEnv = {
  RUN_MODE: 'distributed',
  DATABASE_URL: 'postgres://u:p@db:5432/trace',
  KAFKA_BROKERS: 'kafka-1:9092,kafka-2:9092',
  REDIS_URL: 'redis://cache:6379',
  JWT_SECRET: SECRET,
};

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('defaults to embedded mode on an empty environment', () => {
    const c = loadConfig({});
    expect(c).toBeInstanceOf(PlatformConfig);
    expect(c.RUN_MODE).toBe('embedded');
    expect(c.PORT).toBe(8080);
    expect(c.NODE_ENV).toBe('development');
    expect(c.KAFKA_IDEMPOTENT).toBe(true);
    expect(c.OPENAPI_ENABLED).toBe(true);
    expect(c.DB_POOL_SIZE).toBe(10);
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.KAFKA_BROKERS).toBeUndefined();
    expect(c.REDIS_URL).toBeUndefined();
    expect(c.JWT_SECRET).toBeUndefined();
  });

  it('treats empty strings as unset', () => {
    const c = loadConfig({ PORT: '', DATABASE_URL: '', JWT_SECRET: '' });
    expect(c.PORT).toBe(8080);
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.JWT_SECRET).toBeUndefined();
  });

  it('converts numeric strings to numbers', () => {
    const c = loadConfig({ PORT: '3000', DB_POOL_SIZE: '25', OUTBOX_POLL_MS: '50' });
    expect(c.PORT).toBe(3000);
    expect(c.DB_POOL_SIZE).toBe(25);
    expect(c.OUTBOX_POLL_MS).toBe(50);
  });

  it('applies overrides over the environment', () => {
    const c = loadConfig({ PORT: '3000' }, { PORT: 4000, LOG_LEVEL: 'silent' });
    expect(c.PORT).toBe(4000);
    expect(c.LOG_LEVEL).toBe('silent');
  });

  it('ignores variables it does not know', () => {
    const c = loadConfig({ SOMETHING_ELSE: 'x', PATH: '/bin' });
    expect(c).not.toHaveProperty('SOMETHING_ELSE');
    expect(c).not.toHaveProperty('PATH');
  });

  it('accepts a complete distributed configuration', () => {
    const c = loadConfig(distributedEnv);
    expect(c.RUN_MODE).toBe('distributed');
    expect(c.DATABASE_URL).toBe(distributedEnv.DATABASE_URL);
    expect(c.KAFKA_BROKERS).toBe(distributedEnv.KAFKA_BROKERS);
    expect(c.REDIS_URL).toBe(distributedEnv.REDIS_URL);
    expect(c.JWT_SECRET).toBe(SECRET);
  });

  it('in distributed mode, names every missing required variable', () => {
    const err = configError(() => loadConfig({ RUN_MODE: 'distributed' }));
    for (const name of ['DATABASE_URL', 'KAFKA_BROKERS', 'REDIS_URL', 'JWT_SECRET']) {
      expect(err.message).toContain(name);
      expect(err.problems.some((p) => p.startsWith(`${name}=`))).toBe(true);
    }
    expect(err.problems).toHaveLength(4);
    expect(err.name).toBe('ConfigError');
  });

  it('in distributed mode, names only the one variable that is missing', () => {
    const { REDIS_URL: _omit, ...env } = distributedEnv;
    const err = configError(() => loadConfig(env));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatch(/^REDIS_URL=/);
  });

  it.each(['abc', '70000', '-1', '80.5'])('refuses PORT=%s', (port) => {
    const err = configError(() => loadConfig({ PORT: port }));
    expect(err.message).toContain('PORT');
    expect(err.problems).toHaveLength(1);
  });

  it.each([
    ['false', false],
    ['0', false],
    ['no', false],
    ['true', true],
    ['1', true],
    ['ON', true],
  ])('parses KAFKA_IDEMPOTENT=%s as %s', (value, expected) => {
    expect(loadConfig({ KAFKA_IDEMPOTENT: value }).KAFKA_IDEMPOTENT).toBe(expected);
  });

  // Regression: an unrecognised value once mapped to false, so KAFKA_IDEMPOTENT=ture silently
  // turned the idempotent producer off instead of failing the boot.
  it.each(['ture', 'flase', 'banana'])('refuses a non-boolean KAFKA_IDEMPOTENT=%s', (value) => {
    const err = configError(() => loadConfig({ KAFKA_IDEMPOTENT: value }));
    expect(err.message).toContain('KAFKA_IDEMPOTENT');
  });

  it('refuses a too-short JWT_SECRET in either mode', () => {
    const embedded = configError(() => loadConfig({ JWT_SECRET: 'short' }));
    expect(embedded.message).toContain('JWT_SECRET must be at least 32 characters');
    const distributed = configError(() => loadConfig({ ...distributedEnv, JWT_SECRET: 's'.repeat(31) }));
    expect(distributed.problems).toHaveLength(1);
    expect(distributed.problems[0]).toMatch(/^JWT_SECRET=/);
  });

  it('refuses malformed URLs and broker lists', () => {
    const err = configError(() =>
      loadConfig({ ...distributedEnv, DATABASE_URL: 'mysql://x', REDIS_URL: 'http://x', KAFKA_BROKERS: 'kafka' }),
    );
    expect(err.message).toContain('DATABASE_URL must be a postgres:// URL');
    expect(err.message).toContain('REDIS_URL must be a redis:// URL');
    expect(err.message).toContain('KAFKA_BROKERS must be host:port');
  });

  it('reads the other services\' URLs, refuses a malformed one at start, and finds a domain\'s by name', () => {
    const c = loadConfig({ LINEAGE_URL: 'http://lineage:8080', FOOD_URL: 'https://food.internal', RECALL_URL: 'not checked here' });
    expect(c.LINEAGE_URL).toBe('http://lineage:8080');
    expect(domainServiceUrl(c, 'food')).toBe('https://food.internal');
    expect(domainServiceUrl(c, 'agri')).toBeUndefined();
    expect(domainServiceUrl(c, 'lineage')).toBe('http://lineage:8080');
    expect(domainServiceUrl(c, 'constructor')).toBeUndefined();
    expect(domainServiceUrl(undefined, 'food')).toBeUndefined();
    expect(() => loadConfig({ LINEAGE_URL: 'lineage:8080' })).toThrow(/LINEAGE_URL must be an http\(s\):\/\/ URL/);
    expect(() => loadConfig({ AGRI_URL: 'http://agri :8080' })).toThrow(/AGRI_URL must be an http\(s\):\/\/ URL/);
  });

  it('refuses an unknown RUN_MODE and LOG_LEVEL', () => {
    const err = configError(() => loadConfig({ RUN_MODE: 'cluster', LOG_LEVEL: 'loud' }));
    expect(err.message).toContain('RUN_MODE');
    expect(err.message).toContain('LOG_LEVEL');
  });

  it('reads the scan settings with generous defaults and refuses bad ones', () => {
    const d = loadConfig({});
    expect([d.SCAN_CACHE_TTL_SECONDS, d.SCAN_RATE_LIMIT, d.SCAN_RATE_WINDOW_SECONDS, d.TRUST_PROXY_HOPS, d.PUBLIC_BASE_URL]).toEqual([300, 600, 60, 0, undefined]);
    const c = loadConfig({ PUBLIC_BASE_URL: 'https://id.example.com', SCAN_CACHE_TTL_SECONDS: '0', SCAN_RATE_LIMIT: '5', TRUST_PROXY_HOPS: '1' });
    expect([c.PUBLIC_BASE_URL, c.SCAN_CACHE_TTL_SECONDS, c.SCAN_RATE_LIMIT, c.TRUST_PROXY_HOPS]).toEqual(['https://id.example.com', 0, 5, 1]);
    const err = configError(() => loadConfig({ PUBLIC_BASE_URL: 'https://id.example.com/scan', SCAN_RATE_LIMIT: '0', TRUST_PROXY_HOPS: 'x' }));
    expect(err.problems.map((p) => p.split('=')[0]).sort()).toEqual(['PUBLIC_BASE_URL', 'SCAN_RATE_LIMIT', 'TRUST_PROXY_HOPS']);
  });
});
