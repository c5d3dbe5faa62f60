import { eventually } from '@trace/testing';
import { aProduct } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { epcisDocument } from '../support/epcis';
import { anOrg, type TestOrg } from '../support/world';

/**
 * A partner that sends the same document again while the first capture still runs (a retry after a
 * timeout). A capture writes each 500-event chunk without waiting for it while it checks the next one,
 * so a write refused by the other capture surfaces a chunk later: whatever the order, every event is on
 * its chain once, every chain is whole, and both jobs end with an answer.
 */
describe('the same document captured twice at once', () => {
  let t: EmbeddedTestApp;
  let org: TestOrg;
  const GTIN = '09506000134376';
  const LOTS = 150;
  const OBSERVATIONS = 1_050; // 1,200 events: three chunks

  const documentFor = (tag: string) => {
    const at = (n: number) => new Date(Date.parse('2026-11-01T00:00:00Z') + n * 1000).toISOString();
    const events: Record<string, unknown>[] = [];
    for (let i = 0; i < LOTS; i++) {
      events.push({
        type: 'ObjectEvent', action: 'ADD', bizStep: 'commissioning', disposition: 'active', eventTime: at(events.length), eventTimeZoneOffset: '+00:00',
        quantityList: [{ epcClass: `https://id.gs1.org/01/${GTIN}/10/${tag}${i}`, quantity: 100, uom: 'KGM' }],
      });
    }
    for (let n = 0; n < OBSERVATIONS; n++) {
      events.push({
        type: 'ObjectEvent', action: 'OBSERVE', bizStep: 'storing', disposition: 'sellable_not_accessible', eventTime: at(events.length), eventTimeZoneOffset: '+00:00',
        quantityList: [{ epcClass: `https://id.gs1.org/01/${GTIN}/10/${tag}${n % LOTS}` }],
      });
    }
    return epcisDocument(events);
  };

  const start = async (body: unknown, behaviour: 'proceed' | 'rollback') => {
    const r = await fetch(`${t.url}/v1/epcis/capture`, {
      method: 'POST',
      headers: { ...(await org.api.headers()), 'content-type': 'application/ld+json', 'GS1-Capture-Error-Behaviour': behaviour },
      body: JSON.stringify(body),
    });
    expect(r.status).toBe(202);
    return r.headers.get('location') as string;
  };
  const finished = (location: string) =>
    eventually(async () => {
      const j = await org.api.get(location);
      return j.status === 200 && !j.body.running ? (j.body as { success: boolean; errors: { reason: string }[] }) : undefined;
    }, 90_000);

  /** Links per batch of the tag's lots, and any event stored twice on one chain. */
  const chains = async (tag: string) => {
    const rows = await t.query<{ lot: string; links: number; seqs_whole: boolean; twice: number }>(
      `SELECT b.lot, count(e.id)::int AS links,
              count(e.id) = max(e.seq) AND min(e.seq) = 1 AS seqs_whole,
              (count(e.epcis_hash) - count(DISTINCT e.epcis_hash))::int AS twice
         FROM "${t.prefix}agri".batches b JOIN "${t.prefix}agri".trace_events e ON e.batch_id = b.id
        WHERE b.gtin = $1 AND b.lot LIKE $2 GROUP BY b.lot`,
      [GTIN, `${tag}%`],
    );
    return rows;
  };

  beforeAll(async () => {
    t = await startEmbeddedApp();
    org = await anOrg(t, 'Retrying Mill', 'processor', ['factory']);
    await aProduct(org.api, 'agri', GTIN, 'grain');
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each(['proceed', 'rollback'] as const)('%s: every event once on its chain, every chain whole, both jobs succeed', async (behaviour) => {
    const tag = behaviour === 'proceed' ? 'P' : 'R';
    const body = documentFor(tag);
    const [a, b] = await Promise.all([start(body, behaviour), start(body, behaviour)]);
    const jobs = await Promise.all([finished(a), finished(b)]);
    // Both succeed: the one that lost a race plans again and finds the other's events stored (duplicates).
    expect(jobs.map((j) => [j.success, j.errors])).toEqual([
      [true, []],
      [true, []],
    ]);

    const lots = await chains(tag);
    expect(lots).toHaveLength(LOTS);
    for (const l of lots) {
      expect(l.twice).toBe(0);
      expect(l.seqs_whole).toBe(true);
      // Its commissioning and its observations: 1 + 7 each.
      expect(l.links).toBe(1 + OBSERVATIONS / LOTS);
    }
    // And a third capture of it, alone, finds every event stored already.
    const again = await finished(await start(body, behaviour));
    expect(again.success).toBe(true);
    expect(await chains(tag)).toEqual(lots);
  });
});
