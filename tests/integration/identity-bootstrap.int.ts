import { ConfigError, loadConfig } from '@trace/platform';
import { dropSchemas, testDatabaseUrl } from '@trace/testing';
import { Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';

const LINE = /^bootstrap admin: clientId=(\S+) clientSecret=(\S+)$/gm;

/** Starts the app with stdout captured; returns what it printed while starting. */
async function startCapturing(overrides: Record<string, string>): Promise<{ app: EmbeddedTestApp; printed: string }> {
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
  try {
    return { app: await startEmbeddedApp(overrides), printed: chunks.join('') };
  } finally {
    spy.mockRestore();
  }
}

/** The first admin: from the environment, or generated once in embedded mode. */
describe('identity: bootstrap admin (embedded app, real PostgreSQL)', () => {
  const url = testDatabaseUrl();
  const prefixes: string[] = [];
  let current: EmbeddedTestApp | undefined;

  /** Stops the app but keeps its schemas, so the next start finds yesterday's data. */
  const stop = async () => {
    await current?.app.close();
    current = undefined;
  };
  const token = (app: EmbeddedTestApp, clientId: string, clientSecret: string) =>
    app.anonymous.post('/v1/auth/token', { clientId, clientSecret });
  const admins = (app: EmbeddedTestApp, prefix: string) =>
    app.query(`SELECT client_id, org_id, secret_hash FROM ${prefix}gateway.clients WHERE role = 'admin' ORDER BY client_id`);

  afterEach(async () => {
    await stop();
  });
  afterAll(async () => {
    for (const p of prefixes) await dropSchemas(url, p);
  });

  it('embedded without the variables: generates a secret once, prints it once, never rotates it', async () => {
    const first = await startCapturing({});
    current = first.app;
    const prefix = first.app.prefix;
    prefixes.push(prefix);
    const lines = [...first.printed.matchAll(LINE)];
    expect(lines).toHaveLength(1);
    const [, clientId, clientSecret] = lines[0];
    expect(clientId).toBe('admin');
    expect(clientSecret.length).toBeGreaterThanOrEqual(32);

    const issued = await token(first.app, clientId, clientSecret);
    expect(issued.status).toBe(200);
    const created = await new Api(first.app.url, issued.body.accessToken).post('/v1/orgs', { name: 'Farm', kind: 'producer' });
    expect(created.status).toBe(201);
    const [stored] = await admins(first.app, prefix);
    expect(stored).toMatchObject({ client_id: 'admin', org_id: 'platform' });
    expect(stored.secret_hash).not.toContain(clientSecret);
    await stop();

    // A later start on the same data: nothing printed, the same secret still works, nothing rotated.
    const second = await startCapturing({ DB_SCHEMA_PREFIX: prefix });
    current = second.app;
    expect(second.printed).not.toMatch(/bootstrap admin:/);
    expect(second.printed).not.toContain(clientSecret);
    expect((await token(second.app, clientId, clientSecret)).status).toBe(200);
    expect(await admins(second.app, prefix)).toEqual([stored]);
  });

  it('from the environment: created, idempotent on restart, and a new secret replaces the old one', async () => {
    const env = { BOOTSTRAP_ADMIN_CLIENT_ID: 'ops-admin', BOOTSTRAP_ADMIN_CLIENT_SECRET: 'first-secret-0123456789' };
    const first = await startCapturing(env);
    current = first.app;
    const prefix = first.app.prefix;
    prefixes.push(prefix);
    // Nothing generated, nothing printed: the operator chose the secret.
    expect(first.printed).not.toMatch(/bootstrap admin:/);
    const issued = await token(first.app, 'ops-admin', env.BOOTSTRAP_ADMIN_CLIENT_SECRET);
    expect(issued.status).toBe(200);
    const claims = JSON.parse(Buffer.from(issued.body.accessToken.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ sub: 'ops-admin', org: 'platform', role: 'admin' });
    const before = await admins(first.app, prefix);
    expect(before).toEqual([{ client_id: 'ops-admin', org_id: 'platform', secret_hash: expect.stringMatching(/^scrypt\$/) }]);
    expect(before[0].secret_hash).not.toContain(env.BOOTSTRAP_ADMIN_CLIENT_SECRET);
    await stop();

    // Same variables again: the stored hash is untouched.
    current = (await startCapturing({ ...env, DB_SCHEMA_PREFIX: prefix })).app;
    expect(await admins(current, prefix)).toEqual(before);
    await stop();

    // A new secret: the old one stops working, the new one works, still one admin.
    current = (await startCapturing({ ...env, BOOTSTRAP_ADMIN_CLIENT_SECRET: 'second-secret-0123456789', DB_SCHEMA_PREFIX: prefix })).app;
    expect((await token(current, 'ops-admin', env.BOOTSTRAP_ADMIN_CLIENT_SECRET)).status).toBe(401);
    expect((await token(current, 'ops-admin', 'second-secret-0123456789')).status).toBe(200);
    const after = await admins(current, prefix);
    expect(after).toHaveLength(1);
    expect(after[0].secret_hash).not.toBe(before[0].secret_hash);
  });

  it('refuses half a bootstrap configuration, without echoing the secret', () => {
    const onlyId = (() => {
      try {
        loadConfig({ BOOTSTRAP_ADMIN_CLIENT_ID: 'admin' });
      } catch (err) {
        return err as ConfigError;
      }
    })();
    expect(onlyId).toBeInstanceOf(ConfigError);
    expect(onlyId!.message).toContain('BOOTSTRAP_ADMIN_CLIENT_SECRET');
    const weak = (() => {
      try {
        loadConfig({ BOOTSTRAP_ADMIN_CLIENT_ID: 'admin', BOOTSTRAP_ADMIN_CLIENT_SECRET: 'hunter2' });
      } catch (err) {
        return err as ConfigError;
      }
    })();
    expect(weak).toBeInstanceOf(ConfigError);
    expect(weak!.message).toContain('at least 16 characters');
    expect(weak!.message).not.toContain('hunter2');
    expect(() => loadConfig({ BOOTSTRAP_ADMIN_CLIENT_SECRET: 'a-secret-without-an-id' })).toThrow(/BOOTSTRAP_ADMIN_CLIENT_ID/);
    expect(() => loadConfig({ BOOTSTRAP_ADMIN_CLIENT_ID: 'service:agri', BOOTSTRAP_ADMIN_CLIENT_SECRET: 'x'.repeat(20) })).toThrow(
      /BOOTSTRAP_ADMIN_CLIENT_ID/,
    );
  });
});
