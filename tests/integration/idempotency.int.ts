import { idempotencyKeyId } from '@trace/platform';
import { aBatch, aProduct, type Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';

/** POST with an Idempotency-Key, as a client retrying after a lost answer would. */
async function postKeyed(api: Api, path: string, body: unknown, key: string) {
  const r = await fetch(`${api.baseUrl}${path}`, {
    method: 'POST',
    headers: { ...(await api.headers()), 'content-type': 'application/json', accept: 'application/json', 'idempotency-key': key },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined, headers: r.headers };
}

/** Idempotency keys on every POST (API.md "Idempotency"; issue 18 item 7). */
describe('idempotency keys (embedded app, real PostgreSQL)', () => {
  let t: EmbeddedTestApp;
  let A: TestOrg;
  let B: TestOrg;
  const linksOf = async (batchId: string) =>
    (await t.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t.prefix}agri.trace_events WHERE batch_id = $1`, [batchId]))[0].n;
  const storing = () => ({ bizStep: 'storing', eventTime: '2026-11-21T08:00:00+08:00', locationId: A.locations.farm });

  beforeAll(async () => {
    t = await startEmbeddedApp();
    A = await anOrg(t, 'Keyed farm');
    B = await anOrg(t, 'Keyed processor', 'processor', ['factory']);
    await aProduct(A.api, 'agri', '09506000134352', 'grain');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a retried event POST returns the first answer and writes one chain link, not two', async () => {
    const batch = await A.api.post('/v1/agri/batches', aBatch('IK-1', A.locations.farm));
    expect(batch.status).toBe(201);
    const first = await postKeyed(A.api, `/v1/agri/batches/${batch.body.id}/events`, storing(), 'retry-1');
    expect(first.status).toBe(201);
    const again = await postKeyed(A.api, `/v1/agri/batches/${batch.body.id}/events`, storing(), 'retry-1');
    expect({ status: again.status, body: again.body }).toEqual({ status: 201, body: first.body });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await linksOf(batch.body.id)).toBe(2); // commissioning + one storing
    // Key order in the body does not make it another request.
    const reordered = Object.fromEntries(Object.entries(storing()).reverse());
    expect((await postKeyed(A.api, `/v1/agri/batches/${batch.body.id}/events`, reordered, 'retry-1')).body).toEqual(first.body);
    // Without a key, the same body is a new event.
    expect((await A.api.post(`/v1/agri/batches/${batch.body.id}/events`, storing())).status).toBe(201);
    expect(await linksOf(batch.body.id)).toBe(3);
  });

  it('a retried shipment writes one chain link and one outbox event', async () => {
    const batch = await A.api.post('/v1/agri/batches', aBatch('IK-2', A.locations.farm));
    const ship = { bizStep: 'shipping', eventTime: '2026-11-21T09:00:00+08:00', locationId: A.locations.farm, toOrgId: B.id };
    const first = await postKeyed(A.api, `/v1/agri/batches/${batch.body.id}/events`, ship, 'ship-IK-2');
    expect(first.status).toBe(201);
    const again = await postKeyed(A.api, `/v1/agri/batches/${batch.body.id}/events`, ship, 'ship-IK-2');
    expect({ status: again.status, body: again.body }).toEqual({ status: 201, body: first.body });
    expect(await linksOf(batch.body.id)).toBe(2);
    const outbox = await t.query(`SELECT count(*)::int AS n FROM ${t.prefix}agri.outbox WHERE message_key = $1`, [batch.body.id]);
    expect(outbox[0].n).toBe(2); // registered + one trace event
  });

  it('the same key with another body is a 422 idempotency-key-reused, and writes nothing', async () => {
    const batch = await A.api.post('/v1/agri/batches', aBatch('IK-3', A.locations.farm));
    expect((await postKeyed(A.api, `/v1/agri/batches/${batch.body.id}/events`, storing(), 'reuse-1')).status).toBe(201);
    const other = await postKeyed(A.api, `/v1/agri/batches/${batch.body.id}/events`, { ...storing(), eventTime: '2026-11-21T10:00:00+08:00' }, 'reuse-1');
    expect(other.status).toBe(422);
    expect(other.body.type).toBe('https://problems.trace.dev/idempotency-key-reused');
    expect(other.headers.get('content-type')).toContain('application/problem+json');
    // Another path is another request too.
    expect((await postKeyed(A.api, '/v1/locations', { name: 'Barn', kind: 'warehouse' }, 'reuse-1')).status).toBe(422);
    expect(await linksOf(batch.body.id)).toBe(2);
  });

  it('10 concurrent identical requests write once and all get the same answer', async () => {
    const body = aBatch('IK-4', A.locations.farm);
    const answers = await Promise.all(Array.from({ length: 10 }, () => postKeyed(A.api, '/v1/agri/batches', body, 'burst-IK-4')));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(201));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    const rows = await t.query(`SELECT count(*)::int AS n FROM ${t.prefix}agri.batches WHERE lot = 'IK-4'`);
    expect(rows[0].n).toBe(1);

    const batch = answers[0].body;
    const events = await Promise.all(
      Array.from({ length: 10 }, () => postKeyed(A.api, `/v1/agri/batches/${batch.id}/events`, storing(), 'burst-IK-4-event')),
    );
    expect(new Set(events.map((e) => `${e.status} ${e.body.id}`)).size).toBe(1);
    expect(await linksOf(batch.id)).toBe(2);
  });

  it('keys belong to their caller; a refusal is the answer too, replayed as it was', async () => {
    // Another organisation using the same key runs its own request.
    const a = await postKeyed(A.api, '/v1/locations', { name: 'Shed', kind: 'warehouse' }, 'shared-key');
    const b = await postKeyed(B.api, '/v1/locations', { name: 'Shed', kind: 'warehouse' }, 'shared-key');
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.id).not.toBe(b.body.id);
    const aAgain = await postKeyed(A.api, '/v1/locations', { name: 'Shed', kind: 'warehouse' }, 'shared-key');
    expect([aAgain.body.id, aAgain.headers.get('idempotent-replayed')]).toEqual([a.body.id, 'true']);

    // B has no product with this GTIN: 422. The retry gets the same refusal, even once the cause is gone.
    const body = { ...aBatch('IK-5', A.locations.farm), gtin: '09506000134369', locationId: B.locations.factory };
    const refused = await postKeyed(B.api, '/v1/agri/batches', body, 'refused-once');
    expect([refused.status, refused.body.type]).toEqual([422, 'https://problems.trace.dev/unknown-product']);
    await aProduct(B.api, 'agri', '09506000134369', 'grain');
    const retried = await postKeyed(B.api, '/v1/agri/batches', body, 'refused-once');
    expect({ status: retried.status, body: retried.body, replayed: retried.headers.get('idempotent-replayed') }).toEqual({
      status: 422,
      body: refused.body,
      replayed: 'true',
    });
    expect(retried.headers.get('content-type')).toContain('application/problem+json');
    // A validation refusal likewise; a new key is a new request.
    const invalid = await postKeyed(B.api, '/v1/agri/batches', { ...body, quantity: null }, 'invalid-once');
    expect((await postKeyed(B.api, '/v1/agri/batches', { ...body, quantity: null }, 'invalid-once')).body).toEqual(invalid.body);
    expect(invalid.status).toBe(400);
    expect((await postKeyed(B.api, '/v1/agri/batches', body, 'fresh-key')).status).toBe(201);
  });

  it('keeps neither the key nor the answer readable: a client secret shown once is replayed to its caller only', async () => {
    const admin = t.as('platform', 'admin');
    const first = await postKeyed(admin, `/v1/orgs/${A.id}/clients`, { role: 'operator' }, 'client-1');
    expect(first.status).toBe(201);
    const again = await postKeyed(admin, `/v1/orgs/${A.id}/clients`, { role: 'operator' }, 'client-1');
    expect({ status: again.status, body: again.body }).toEqual({ status: 201, body: first.body });
    const rows = await t.query(`SELECT key, body FROM ${t.prefix}test_idempotency.idempotency_keys`);
    const stored = JSON.stringify(rows);
    expect(rows.length).toBeGreaterThan(0);
    expect(stored).not.toContain(first.body.clientSecret);
    expect(stored).not.toContain('client-1');
  });

  it('counts its table in readiness', async () => {
    const ready = await t.anonymous.get('/health/ready');
    expect(ready.body.checks['database:idempotency']).toEqual({ ok: true });
  });

  it('is documented on every POST of the OpenAPI document', async () => {
    const docs = await t.anonymous.get('/docs-json');
    const posts = Object.entries(docs.body.paths as Record<string, { post?: { parameters?: { name: string; in: string }[] } }>).filter(([, ops]) => ops.post);
    expect(posts.length).toBeGreaterThan(10);
    for (const [path, ops] of posts) {
      expect({ path, header: ops.post!.parameters?.some((p) => p.name === 'Idempotency-Key' && p.in === 'header') }).toEqual({ path, header: true });
    }
  });

  it('a malformed key is a 400 naming the header', async () => {
    for (const key of ['', 'k'.repeat(201), 'tab\there']) {
      const r = await postKeyed(A.api, '/v1/locations', { name: 'Shed', kind: 'warehouse' }, key);
      expect({ key: key.slice(0, 10), status: r.status, type: r.body?.type }).toEqual({
        key: key.slice(0, 10),
        status: 400,
        type: 'https://problems.trace.dev/idempotency-key',
      });
    }
    expect((await postKeyed(A.api, '/v1/locations', { name: 'Shed', kind: 'warehouse' }, 'k'.repeat(200))).status).toBe(201);
  });

  it('keeps keys at least 24 hours and purges older ones', async () => {
    const retry1 = idempotencyKeyId(`${A.id}/operator-client`, 'retry-1');
    const [row] = await t.query(
      `SELECT claimed_at > now() - interval '1 minute' AS fresh FROM ${t.prefix}test_idempotency.idempotency_keys WHERE key = $1`,
      [retry1],
    );
    expect(row.fresh).toBe(true);
    await t.query(`UPDATE ${t.prefix}test_idempotency.idempotency_keys SET claimed_at = now() - interval '25 hours' WHERE key = $1`, [retry1]);
    // An expired key is a new key: the request runs again.
    const batchId = (await t.query(`SELECT id FROM ${t.prefix}agri.batches WHERE lot = 'IK-1'`))[0].id;
    const before = await linksOf(batchId);
    expect((await postKeyed(A.api, `/v1/agri/batches/${batchId}/events`, storing(), 'retry-1')).headers.get('idempotent-replayed')).toBeNull();
    expect(await linksOf(batchId)).toBe(before + 1);
  });
});
