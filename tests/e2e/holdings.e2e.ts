import { Client } from 'pg';
import { testDatabaseUrl } from '@trace/testing';
import { startDistributed, type DistributedDeployment } from '../support/distributed';
import { holdingsScenario } from '../support/holdings-scenario';

/**
 * Quantities and custody (tests/support/holdings-scenario.ts) in distributed
 * mode: agri, food, lineage and recall each their own process, Kafka between
 * them, the gateway in front. Holdings reach the recall service in events
 * (TraceEventRecorded.holdings → lineage) and over lineage's internal route.
 */
describe('holdings over Kafka (agri, food, lineage, recall and gateway processes)', () => {
  let d: DistributedDeployment | undefined;
  let db: Client | undefined;

  afterAll(async () => {
    await db?.end();
    await d?.stop();
  });

  it('farm lot 1,200 kg → two processors → 4,000 boxes at three retailers → recall over every holding, a return, exact effectiveness', async () => {
    d = await startDistributed(['agri', 'food', 'lineage', 'recall'], 'e2ehold');
    db = new Client({ connectionString: testDatabaseUrl() });
    await db.connect();
    const client = db;
    await holdingsScenario(
      {
        as: (orgId, role) => d!.as(orgId, role as 'operator'),
        query: async (sql, params) => (await client.query(sql, params as unknown[])).rows,
        prefix: d.prefix,
        eventuallyMs: 60_000,
      },
      'E2E-H',
    );
  });
});
