import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { AuditStore, DomainError } from '@trace/platform';
import { GatewayAuditController } from '@trace/service-gateway';
import { eventually } from '@trace/testing';
import { aBatch, aProduct, type Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';

/** Issue 13, item 6: every write is kept, append-only, and readable by admins and regulators. */
describe('audit log: GET /v1/audit', () => {
  let t: EmbeddedTestApp;
  let farm: TestOrg;
  let admin: Api;
  let regulator: Api;
  const since = new Date(Date.now() - 1000).toISOString();

  beforeAll(async () => {
    t = await startEmbeddedApp();
    admin = t.as('platform', 'admin');
    regulator = t.as('regulator-org', 'regulator');
    farm = await anOrg(t, 'Audited Farm', 'producer', ['farm']);
    await aProduct(farm.api, 'agri');
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Every entry of the log for `query`, page by page. */
  const all = async (api: Api, query: Record<string, string>) => {
    const items: any[] = [];
    let cursor: string | null = null;
    do {
      const r = await api.get(`/v1/audit?${new URLSearchParams({ ...query, ...(cursor ? { cursor } : {}) })}`);
      expect(r.status).toBe(200);
      items.push(...r.body.items);
      cursor = r.body.nextCursor;
    } while (cursor);
    return items;
  };

  it('records a write with who, what, when, correlation id and outcome, and a refusal too', async () => {
    const correlationId = `audit-${randomUUID()}`;
    const r = await fetch(`${t.url}/v1/agri/batches`, {
      method: 'POST',
      headers: { ...(await farm.api.headers()), 'content-type': 'application/json', 'x-correlation-id': correlationId },
      body: JSON.stringify(aBatch('AUDIT-1', farm.locations.farm)),
    });
    expect(r.status).toBe(201);
    const batch = (await r.json()) as { id: string };
    // A refusal: a regulator may not register batches (403 from the guard), and a bad body (400).
    expect((await regulator.post('/v1/agri/batches', aBatch('AUDIT-2', farm.locations.farm))).status).toBe(403);
    expect((await farm.api.post(`/v1/agri/batches/${batch.id}/events`, { bizStep: 'not-a-step' })).status).toBe(400);

    const entries = await eventually(async () => {
      const items = await all(admin, { orgId: farm.id, from: since });
      return items.some((e) => e.status === 400) ? items : undefined;
    });
    expect(entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          clientId: 'operator-client', orgId: farm.id, role: 'operator', method: 'POST', route: '/v1/agri/batches',
          resourceId: batch.id, correlationId, status: 201,
        }),
        expect.objectContaining({ orgId: farm.id, method: 'POST', route: '/v1/agri/batches/:id/events', resourceId: batch.id, status: 400 }),
      ]),
    );
    const created = entries.find((e) => e.correlationId === correlationId);
    expect(Date.parse(created.at)).toBeGreaterThanOrEqual(Date.parse(since));
    // The regulator's refused write is under its own organisation.
    const refused = await eventually(async () => (await all(regulator, { orgId: 'regulator-org', from: since })).find((e) => e.status === 403));
    expect(refused).toMatchObject({ role: 'regulator', method: 'POST', route: '/v1/agri/batches' });
    // Reads are not writes.
    expect(entries.every((e) => e.method !== 'GET')).toBe(true);
  });

  it('is in the list shape: limit, cursor, time window; unknown parameters and bad values are 400', async () => {
    await eventually(async () => (await all(admin, { from: since })).length >= 3);
    const first = await admin.get('/v1/audit?limit=1');
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(1);
    expect(typeof first.body.nextCursor).toBe('string');
    expect(first.headers.get('link')).toMatch(/rel="next"/);
    const second = await admin.get(`/v1/audit?limit=1&cursor=${first.body.nextCursor}`);
    expect(second.body.items[0].id).not.toBe(first.body.items[0].id);
    expect(Date.parse(second.body.items[0].at)).toBeGreaterThanOrEqual(Date.parse(first.body.items[0].at));
    expect((await admin.get(`/v1/audit?to=${encodeURIComponent(new Date(Date.parse(since) - 60_000).toISOString())}&from=${encodeURIComponent(since)}`)).body).toEqual({ items: [], nextCursor: null });

    for (const bad of ['orgid=x', 'limit=0', 'from=yesterday', 'cursor=nope', 'orgId=a&orgId=b']) {
      const r = await admin.get(`/v1/audit?${bad}`);
      expect([bad, r.status, r.headers.get('content-type')]).toEqual([bad, 400, expect.stringContaining('application/problem+json')]);
    }
  });

  it('is documented in the OpenAPI document', async () => {
    const docs = await admin.get('/docs-json');
    const op = docs.body.paths['/v1/audit'].get;
    expect(op.parameters.map((p: any) => p.name)).toEqual(expect.arrayContaining(['orgId', 'from', 'to', 'limit', 'cursor']));
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400']));
    expect(docs.body.components.schemas.AuditEntryDoc.required).toEqual(expect.arrayContaining(['at', 'method', 'route', 'status']));
  });

  it('is readable by admins and regulators only', async () => {
    expect((await farm.api.get('/v1/audit')).status).toBe(403);
    expect((await t.as(farm.id, 'inspector').get('/v1/audit')).status).toBe(403);
    expect((await regulator.get('/v1/audit')).status).toBe(200);
    expect((await fetch(`${t.url}/v1/audit`)).status).toBe(401);
  });

  it('is append-only: the table refuses UPDATE, DELETE and TRUNCATE', async () => {
    const table = `"${t.prefix}test_audit".audit_log`;
    const [row] = await t.query<{ id: string }>(`SELECT id FROM ${table} LIMIT 1`);
    expect(row).toBeDefined();
    await expect(t.query(`UPDATE ${table} SET status = 200 WHERE id = $1`, [row.id])).rejects.toThrow(/append-only/);
    await expect(t.query(`DELETE FROM ${table} WHERE id = $1`, [row.id])).rejects.toThrow(/append-only/);
    await expect(t.query(`TRUNCATE ${table}`)).rejects.toThrow(/append-only/);
    expect(await t.query(`SELECT 1 FROM ${table} WHERE id = $1`, [row.id])).toHaveLength(1);
  });
  it('distributed: the gateway answers from its own log and every service\'s, merged in order, one cursor for all', async () => {
    // A second app plays the gateway (its own log); the first is every upstream service (all routes point at it).
    const gateway = await startEmbeddedApp();
    const saved = { ...process.env };
    try {
      const visitor = await anOrg(gateway, 'Gateway-side org', 'producer', ['farm']);
      const upstreamLog = await all(admin, {});
      const ownLog = await eventually(async () => {
        const r = await gateway.as('platform', 'admin').get('/v1/audit?limit=500');
        return r.body.items.some((e: any) => e.orgId === visitor.id) ? r.body.items : undefined;
      });
      for (const name of ['AGRI_URL', 'FOOD_URL', 'DRUG_URL', 'MATERIAL_URL', 'GOODS_URL', 'LINEAGE_URL', 'RECALL_URL', 'EPCIS_URL']) process.env[name] = t.url;
      const controller = new GatewayAuditController(gateway.app.get(AuditStore));
      const authorization = (await admin.headers()).authorization;
      const page = async (query: Record<string, string>) => {
        const headers: Record<string, string> = {};
        const req = { originalUrl: `/v1/audit?${new URLSearchParams(query)}`, headers: { authorization } } as unknown as Request;
        const res = { setHeader: (k: string, v: string) => (headers[k.toLowerCase()] = v) } as unknown as Response;
        return { ...(await controller.list(query, req, res)), link: headers.link };
      };
      const merged: any[] = [];
      let cursor: string | null = null;
      do {
        const p = await page({ limit: '3', ...(cursor ? { cursor } : {}) });
        expect(p.items.length).toBeLessThanOrEqual(3);
        if (p.nextCursor) expect(p.link).toContain(`cursor=${p.nextCursor}`);
        merged.push(...p.items);
        cursor = p.nextCursor;
      } while (cursor);
      // Every entry of both logs once (the upstream's own writes since may add more), in (at, id) order.
      const ids = merged.map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual(expect.arrayContaining([...upstreamLog, ...ownLog].map((e) => e.id)));
      const keys = merged.map((e) => `${e.at}|${e.id}`);
      expect(keys).toEqual([...keys].sort());
      // A service that does not answer: 503, never a page without its writes.
      process.env.RECALL_URL = 'http://127.0.0.1:9';
      await expect(page({})).rejects.toMatchObject({ status: 503 });
      await expect(page({})).rejects.toBeInstanceOf(DomainError);
    } finally {
      process.env = saved;
      await gateway.close();
    }
  });
});
