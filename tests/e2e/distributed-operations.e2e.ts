import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { Domain, timestampFromDate } from '@trace/contracts';
import { Outbox } from '@trace/messaging';
import { eventually, testDatabaseUrl, type ServiceProcess } from '@trace/testing';
import { startDistributed, type DistributedDeployment } from '../support/distributed';
import { Api, counter } from '../support/api';

/**
 * Operations in distributed mode: outbox backlog and consumer lag on
 * /metrics, and a graceful shutdown (SIGTERM) that publishes what is still
 * in the outbox before the process exits.
 *
 * agri's relay is paced to one pass an hour (OUTBOX_POLL_MS), so rows this
 * test commits without the relay's NOTIFY stay unsent until something else
 * publishes them: here, the shutdown.
 */
describe('distributed operations: metrics and graceful shutdown', () => {
  let d: DistributedDeployment | undefined;
  const db = new Client({ connectionString: testDatabaseUrl() });

  beforeAll(() => db.connect());
  afterAll(async () => {
    await db.end();
    await d?.stop();
  });

  /** Commits `n` batch registrations into agri's outbox the way a service does, minus the wake-up. */
  async function unsentBatches(schema: string, orgId: string, n: number): Promise<string[]> {
    const ids = Array.from({ length: n }, () => randomUUID());
    const outbox = new Outbox('agri', 'outbox_nobody_listens');
    await db.query('BEGIN');
    try {
      await db.query(`SET LOCAL search_path TO "${schema}"`);
      const manager = { queryRunner: { isTransactionActive: true }, query: (sql: string, params: unknown[]) => db.query(sql, params) };
      for (const [i, id] of ids.entries()) {
        await outbox.append(
          manager as never,
          'batchRegistered',
          {
            batch: { domain: Domain.AGRI, batchId: id },
            gtin: '09506000134352',
            lot: `SIGTERM-${i}`,
            quantity: { value: '10', unit: 'kg' },
            ownerOrgId: orgId,
            locationId: randomUUID(),
            producedAt: timestampFromDate(new Date()),
            inputs: [],
            chainHead: 'f'.repeat(64),
            productCategory: 'grain',
          },
          { subject: id, orgId },
        );
      }
      await db.query('COMMIT');
    } catch (err) {
      await db.query('ROLLBACK');
      throw err;
    }
    return ids;
  }

  const metricsOf = async (p: ServiceProcess) => (await new Api(p.url).get('/metrics')).body as string;
  const samples = (metrics: string, name: string) => metrics.split('\n').filter((l) => l.startsWith(`${name}{`));

  it('reports outbox backlog and consumer lag, and flushes the outbox on SIGTERM before exiting', async () => {
    d = await startDistributed(['agri', 'lineage'], 'e2eops', { env: { agri: { OUTBOX_POLL_MS: '3600000' } } });
    const agri = d.services.agri as ServiceProcess;
    const lineage = d.services.lineage as ServiceProcess;
    const schema = `${d.prefix}agri`;

    // Nothing waiting yet: the gauge exists and reads 0.
    expect(counter(await metricsOf(agri), 'outbox_unsent_events', { service: 'agri' })).toBe(0);
    expect(samples(await metricsOf(agri), 'outbox_oldest_unsent_age_seconds')).toEqual(['outbox_oldest_unsent_age_seconds{service="agri"} 0']);

    const ids = await unsentBatches(schema, 'org-sigterm', 5);
    const backlog = await metricsOf(agri);
    expect(counter(backlog, 'outbox_unsent_events', { service: 'agri' })).toBe(5);
    expect(counter(backlog, 'outbox_oldest_unsent_age_seconds', { service: 'agri' })).toBeGreaterThanOrEqual(0);
    const { rows: before } = await db.query(`SELECT count(*)::int AS n FROM "${schema}".outbox WHERE sent_at IS NULL`);
    expect(before[0].n).toBe(5);

    // SIGTERM: readiness goes, consumers stop, the outbox is flushed, then Nest
    // re-raises the signal (exit by SIGTERM, no exit code), as a shell expects.
    expect(await agri.stop('SIGTERM')).toBeNull();
    expect(agri.child.signalCode).toBe('SIGTERM');
    expect(agri.logs()).toMatch(/"flushed":5.*outbox flushed before shutdown/);
    const { rows: after } = await db.query(`SELECT count(*)::int AS n FROM "${schema}".outbox WHERE sent_at IS NULL`);
    expect(after[0].n).toBe(0);

    // And they did go out: lineage consumed all five over Kafka.
    const regulator = d.as('regulator-org', 'regulator');
    for (const id of ids) {
      const node = await eventually(async () => {
        const r = await regulator.get(`/v1/trace/agri/${id}`);
        return r.status === 200 ? r.body : undefined;
      }, 60_000);
      expect(node.nodes).toEqual([expect.objectContaining({ batchId: id })]);
    }

    // Lineage's lag per topic and partition, from its own fetches: caught up now.
    const lag = await eventually(async () => {
      const m = samples(await metricsOf(lineage), 'kafka_consumer_lag').filter((l) => l.includes('topic="trace.batch.v1"'));
      return m.length > 0 && m.every((l) => l.endsWith(' 0')) ? m : undefined;
    }, 30_000);
    for (const line of lag) expect(line).toMatch(new RegExp(`^kafka_consumer_lag\\{consumer_group="${d.prefix}lineage",topic="trace.batch.v1",partition="\\d+"\\} 0$`));
    expect(counter(await metricsOf(lineage), 'events_consumed_total', { consumer: 'lineage', topic: 'trace.batch.v1', outcome: 'processed' })).toBeGreaterThanOrEqual(5);
  }, 240_000);
});
