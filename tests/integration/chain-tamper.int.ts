import { eventually } from '@trace/testing';
import { GENESIS_HASH, linkHash } from '@trace/trace-chain';
import { aBatch, aProduct } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';

const GTIN = '09506000134352';

/**
 * Tamper evidence covers what people are shown: someone with SQL access edits
 * a stored event's columns (step, disposition, time, organisation) or its
 * content (place, quantity) behind the API; `verify` and the consumer scan
 * must both say the chain is broken.
 */
describe('tampering with a stored chain event in PostgreSQL', () => {
  let t: EmbeddedTestApp;
  let farm: TestOrg;
  let other: TestOrg;
  let events: string;

  beforeAll(async () => {
    // No scan cache: an edit in SQL sends no event that would invalidate a cached answer.
    t = await startEmbeddedApp({ SCAN_CACHE_TTL_SECONDS: '0' });
    farm = await anOrg(t, 'Green Farm', 'producer', ['farm', 'warehouse']);
    other = await anOrg(t, 'Someone Else', 'retailer', ['store']);
    await aProduct(farm.api, 'agri', GTIN, 'vegetable');
    events = `"${t.prefix}agri".trace_events`;
    // What an intruder with the database's credentials does first: the append-only trigger is no obstacle.
    await t.query(`ALTER TABLE ${events} DISABLE TRIGGER trace_events_no_rewrite`);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A lot with two links: its registration (seq 1) and a storing event (seq 2). */
  const aLot = async (lot: string) => {
    const b = await farm.api.post('/v1/agri/batches', aBatch(lot, farm.locations.farm));
    expect(b.status).toBe(201);
    const e = await farm.api.post(`/v1/agri/batches/${b.body.id}/events`, {
      bizStep: 'storing', eventTime: new Date(Date.now() - 60_000).toISOString(), locationId: farm.locations.warehouse,
    });
    expect(e.status).toBe(201);
    return b.body.id as string;
  };
  const verify = async (id: string) => (await farm.api.get(`/v1/agri/batches/${id}/verify`)).body;
  const scanChain = async (lot: string) => {
    const r = await fetch(`${t.url}/01/${GTIN}/10/${encodeURIComponent(lot)}`, { headers: { accept: 'application/json' } });
    expect(r.status).toBe(200);
    return ((await r.json()) as { chain: { valid: boolean; length: number } }).chain;
  };

  it.each<[string, number, (otherOrg: string, locationId: string) => string]>([
    ['the step', 2, () => `biz_step = 'receiving'`],
    ['the disposition', 2, () => `disposition = 'damaged'`],
    ['the time', 2, () => `event_time = event_time - interval '3 days'`],
    ['the offset', 1, () => `event_time_offset = '+09:00'`],
    ['the organisation', 2, (o) => `org_id = '${o}'`],
    ['the place', 2, (_, l) => `content = jsonb_set(content, '{locationId}', to_jsonb('${l}'::text))`],
    ['the quantity', 1, () => `content = jsonb_set(content, '{quantity,value}', '12000'::jsonb)`],
  ])('editing %s of a link breaks verify and the scan', async (what, seq, set) => {
    const lot = `T-${what.replace(/^the /, '').slice(0, 12)}`; // a GS1 lot has at most 20 characters
    const id = await aLot(lot);
    expect(await verify(id)).toMatchObject({ valid: true, length: 2 });
    expect(await scanChain(lot)).toEqual({ valid: true, length: 2 });

    const updated = await t.query(`UPDATE ${events} SET ${set(other.id, other.locations.store as string)} WHERE batch_id = $1 AND seq = $2 RETURNING id`, [id, seq]);
    expect(updated).toHaveLength(1);

    expect(await verify(id)).toMatchObject({ valid: false, length: 2, brokenAt: { seq, reason: 'hash_mismatch' } });
    expect(await scanChain(lot)).toEqual({ valid: false, length: 2 });
  });

  it.each<[string, string, string]>([
    ['production time', `produced_at = produced_at - interval '1 day'`, 'produced_at'],
    ['expiry', `expires_at = now() + interval '1 year'`, 'expires_at'],
    ['status', `status = 'destroyed'`, 'status'],
  ])('editing the batch row\'s %s (shown on the scan) breaks verify and the scan', async (what, set, field) => {
    const lot = `R-${what.replace(/\W+/g, '-').slice(0, 12)}`;
    const id = await aLot(lot);
    await t.query(`UPDATE "${t.prefix}agri".batches SET ${set} WHERE id = $1`, [id]);
    expect(await verify(id)).toMatchObject({ valid: false, length: 2, brokenAt: { reason: 'batch_mismatch', field } });
    expect(await scanChain(lot)).toEqual({ valid: false, length: 2 });
  });

  it('a recalled batch set back to active in SQL does not pass for intact', async () => {
    const id = await aLot('R-RECALLED');
    const regulator = t.as('regulator-org', 'regulator');
    const recall = await regulator.post('/v1/recalls', { batches: [{ domain: 'agri', batchId: id }], level: 1, reason: 'Pesticide residue' });
    expect(recall.status).toBe(201);
    await eventually(async () => (await verify(id)).length === 3, 30_000);
    expect(await verify(id)).toMatchObject({ valid: true, length: 3 });

    await t.query(`UPDATE "${t.prefix}agri".batches SET status = 'active' WHERE id = $1`, [id]);
    expect(await verify(id)).toMatchObject({ valid: false, brokenAt: { seq: 3, reason: 'batch_mismatch', field: 'status' } });
    expect(await scanChain('R-RECALLED')).toEqual({ valid: false, length: 3 });
  });

  it('stores new links as hash v2; a chain written before versions (v1, content only) still verifies', async () => {
    const id = await aLot('OLD-CHAIN');
    expect(await t.query(`SELECT hash_version FROM ${events} WHERE batch_id = $1 ORDER BY seq`, [id])).toEqual([{ hash_version: 2 }, { hash_version: 2 }]);
    // Rewrite the chain as the code before hash versions wrote it: content-only hashes, version 1.
    const rows = await t.query<{ id: string; seq: number; content: Record<string, unknown> }>(
      `SELECT id, seq, content FROM ${events} WHERE batch_id = $1 ORDER BY seq`, [id],
    );
    let prev = GENESIS_HASH;
    for (const r of rows) {
      const hash = linkHash(r.seq, prev, r.content);
      await t.query(`UPDATE ${events} SET hash = $2, prev_hash = $3, hash_version = 1 WHERE id = $1`, [r.id, hash, prev]);
      prev = hash;
    }
    await t.query(`UPDATE "${t.prefix}agri".batches SET chain_head = $2 WHERE id = $1`, [id, prev]);
    expect(await verify(id)).toEqual({ valid: true, length: 2, head: prev });
    expect(await scanChain('OLD-CHAIN')).toEqual({ valid: true, length: 2 });

    // The next link of that chain is v2, on top of the v1 head.
    const next = await farm.api.post(`/v1/agri/batches/${id}/events`, {
      bizStep: 'storing', eventTime: new Date().toISOString(), locationId: farm.locations.farm,
    });
    expect(next.status).toBe(201);
    expect(next.body.prevHash).toBe(prev);
    expect(await verify(id)).toMatchObject({ valid: true, length: 3 });
    expect(await t.query(`SELECT hash_version FROM ${events} WHERE batch_id = $1 AND seq = 3`, [id])).toEqual([{ hash_version: 2 }]);
  });

  it('changing the namespaces a captured event was stored with (epcis_context, outside the link hash) breaks verify', async () => {
    const doc = {
      '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld', { ext1: 'http://a.example.com/ns/' }],
      type: 'EPCISDocument',
      schemaVersion: '2.0',
      creationDate: '2026-11-21T08:00:00.000+08:00',
      epcisBody: {
        eventList: [
          {
            type: 'ObjectEvent', action: 'ADD', bizStep: 'commissioning', disposition: 'active',
            eventTime: '2026-11-21T08:00:00.000+08:00', eventTimeZoneOffset: '+08:00',
            quantityList: [{ epcClass: `https://id.gs1.org/01/${GTIN}/10/CTX-1`, quantity: 10, uom: 'KGM' }],
            bizLocation: { id: 'urn:epc:id:sgln:4012345.00001.0' },
            'ext1:grade': { 'ext1:score': 'A' },
          },
        ],
      },
    };
    const sent = await fetch(`${t.url}/v1/epcis/capture`, {
      method: 'POST', headers: { ...(await farm.api.headers()), 'content-type': 'application/ld+json' }, body: JSON.stringify(doc),
    });
    expect(sent.status).toBe(202);
    const { captureID } = (await sent.json()) as { captureID: string };
    const job = await eventually(async () => {
      const j = await farm.api.get(`/v1/epcis/capture/${captureID}`);
      return j.status === 200 && !j.body.running ? j.body : undefined;
    }, 60_000);
    expect(job).toMatchObject({ success: true, errors: [] });
    const [batch] = await t.query<{ id: string }>(`SELECT id FROM "${t.prefix}agri".batches WHERE lot = 'CTX-1'`);
    expect(await verify(batch.id)).toMatchObject({ valid: true, length: 1 });

    // The same prefix bound to another namespace: every answer would now say ext1:grade means something else.
    const updated = await t.query(
      `UPDATE ${events} SET epcis_context = '[{"ext1": "http://b.example.com/ns/"}]'::jsonb WHERE batch_id = $1 AND seq = 1 RETURNING id`, [batch.id],
    );
    expect(updated).toHaveLength(1);
    expect(await verify(batch.id)).toMatchObject({ valid: false, length: 1, brokenAt: { seq: 1, reason: 'epcis_context_mismatch' } });
    expect(await scanChain('CTX-1')).toEqual({ valid: false, length: 1 });
  }, 90_000);
});
