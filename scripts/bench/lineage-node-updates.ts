/**
 * Lineage's node updates: the projector's statement shape (a run of chain events folded into their nodes,
 * written back in one UPDATE of jsonb_to_recordset rows), on `lineage_nodes` as the migrations make it
 * today (the node's `tx` unindexed, fillfactor 85, changes logged in lineage_node_changes by a statement
 * trigger, so updates can be HOT), against the baseline in the same run: a copy of the table laid out as
 * before (an index on `tx`, which every update sets, so no update is HOT; no log).
 *
 *   node scripts/run.js scripts/bench/lineage-node-updates.ts [nodes=100000] [transactions=2000] [nodesPerUpdate=20] [rounds=4]
 *   # DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test; the name must contain "test")
 *
 * Rounds alternate which table goes first. Prints the time per 1,000 node updates (each transaction:
 * BEGIN, the UPDATE, COMMIT) and the share of HOT updates (pg_stat_user_tables).
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createServiceDataSource, initializeServiceDatabase, schemaFor } from '@trace/platform';
import { LINEAGE_MIGRATIONS } from '@trace/service-lineage';
import { dropSchemas, testDatabaseUrl, uniquePrefix } from '@trace/testing';

async function main(): Promise<void> {
  const [nodesArg, txArg, perArg, roundsArg] = process.argv.slice(3);
  const nodes = Number(nodesArg ?? 100_000);
  const transactions = Number(txArg ?? 2_000);
  const perUpdate = Number(perArg ?? 20);
  const rounds = Number(roundsArg ?? 4);
  const url = testDatabaseUrl();
  const prefix = uniquePrefix('benchln');
  const ds = createServiceDataSource({ service: 'lineage', url, schemaPrefix: prefix, poolSize: 2, entities: [], migrations: LINEAGE_MIGRATIONS });
  await initializeServiceDatabase(ds);
  await ds.destroy();
  const schema = schemaFor('lineage', prefix);
  const db = new Client({ connectionString: url, options: `-c search_path=${schema}` });
  await db.connect();
  try {
    // The baseline: the table as it was before lineage_node_changes (LineageNodeChanges1766000000000).
    await db.query('CREATE TABLE nodes_indexed_tx (LIKE lineage_nodes INCLUDING DEFAULTS INCLUDING CONSTRAINTS)');
    await db.query('ALTER TABLE nodes_indexed_tx ADD PRIMARY KEY (batch_id)');
    await db.query('CREATE INDEX ON nodes_indexed_tx (tx)');
    await db.query('CREATE INDEX ON nodes_indexed_tx (gtin, registered_at DESC, batch_id DESC) WHERE registered');
    await db.query('CREATE INDEX ON nodes_indexed_tx (lot, registered_at DESC, batch_id DESC) WHERE registered');
    const indexes = (await db.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'lineage_nodes'`, [schema])).rows.length;
    // A bulk load: no trigger (the log is for replicas catching up on the projector's writes).
    await db.query('ALTER TABLE lineage_nodes DISABLE TRIGGER USER');
    await db.query(
      `INSERT INTO lineage_nodes (batch_id, domain, gtin, lot, registered, owner_org_id, holder_org_id, registered_at, quantity_value, quantity_unit)
       SELECT gen_random_uuid(), 'agri', '0950600' || lpad((i % 5000)::text, 7, '0'), 'L' || i, true, 'org-' || (i % 100), 'org-' || (i % 100), now(), 1000, 'kg'
         FROM generate_series(1, $1) i`,
      [nodes],
    );
    await db.query('ALTER TABLE lineage_nodes ENABLE TRIGGER USER');
    await db.query('INSERT INTO nodes_indexed_tx SELECT * FROM lineage_nodes');
    await db.query('VACUUM (ANALYZE) lineage_nodes');
    await db.query('VACUUM (ANALYZE) nodes_indexed_tx');
    const ids = (await db.query<{ batch_id: string }>('SELECT batch_id FROM lineage_nodes ORDER BY random() LIMIT $1', [Math.min(nodes, transactions * perUpdate)])).rows.map((r) => r.batch_id);

    const totals = { lineage_nodes: 0, nodes_indexed_tx: 0 };
    const run = async (table: 'lineage_nodes' | 'nodes_indexed_tx', round: number) => {
      const started = process.hrtime.bigint();
      for (let t = 0; t < transactions; t++) {
        const from = (t * perUpdate) % ids.length;
        const batch = ids.slice(from, from + perUpdate);
        const rows = batch.map((id, i) => ({ u_id: id, u_status: 'active', u_status_seq: String(round * transactions + t), u_holder: `org-${(t + i) % 100}`, u_custody_seq: String(round * transactions + t) }));
        await db.query('BEGIN');
        await db.query(
          `UPDATE ${table} AS n SET status = u.u_status, status_seq = u.u_status_seq, holder_org_id = u.u_holder, custody_seq = u.u_custody_seq,
                  version = n.version + 1, tx = pg_current_xact_id()
             FROM jsonb_to_recordset($1::jsonb) AS u (u_id uuid, u_status text, u_status_seq bigint, u_holder text, u_custody_seq bigint)
            WHERE n.batch_id = ANY($2::uuid[]) AND n.batch_id = u.u_id`,
          [JSON.stringify(rows), batch],
        );
        await db.query('COMMIT');
      }
      totals[table] += Number(process.hrtime.bigint() - started) / 1e6;
    };
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['lineage_nodes', 'nodes_indexed_tx'] as const) : (['nodes_indexed_tx', 'lineage_nodes'] as const);
      for (const table of order) await run(table, round);
    }
    // This backend's counts reach the statistics views when it next ends a transaction, once asked to.
    await db.query('SELECT pg_stat_force_next_flush()');
    await db.query('SELECT 1');
    const hot = Object.fromEntries(
      (
        await db.query<{ relname: string; share: number }>(
          `SELECT relname, n_tup_hot_upd::float8 / greatest(1, n_tup_upd) AS share FROM pg_stat_user_tables WHERE schemaname = $1 AND relname IN ('lineage_nodes', 'nodes_indexed_tx')`,
          [schema],
        )
      ).rows.map((r) => [r.relname, Number(r.share.toFixed(3))]),
    );
    const timed = rounds * transactions * perUpdate;
    const perThousand = (ms: number) => Number(((ms / timed) * 1000).toFixed(1));
    const logged = Number((await db.query('SELECT count(*)::int AS n FROM lineage_node_changes')).rows[0].n);
    const summary = {
      nodes,
      transactions,
      nodesPerUpdate: perUpdate,
      rounds,
      indexesOfLineageNodes: indexes,
      msPer1000Updates: { hotWithLog: perThousand(totals.lineage_nodes), indexedTx: perThousand(totals.nodes_indexed_tx) },
      hotShare: { hotWithLog: hot.lineage_nodes, indexedTx: hot.nodes_indexed_tx },
      changesLogged: logged,
      run: randomUUID().slice(0, 8),
    };
    console.log(JSON.stringify({ summary }));
    console.log(
      `BENCH_RESULT ${JSON.stringify({ benchmark: 'lineage node updates, HOT + change log (baseline: tx indexed, as before)', value: summary.msPer1000Updates.hotWithLog, unit: 'ms per 1,000 node updates', baseline: summary.msPer1000Updates.indexedTx, better: 'lower' })}`,
    );
  } finally {
    await db.end();
    await dropSchemas(url, prefix);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
