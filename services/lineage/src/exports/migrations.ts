import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The FSMA 204 read model: what the sortable spreadsheet needs and the lineage
 * graph does not keep (product name, where the lot code was assigned,
 * quantities, documents, the shipping and receiving events). Fed in the same
 * inbox transaction as the graph; rebuildable from the topics like it.
 */
export class FsmaReadModel1764100000000 implements MigrationInterface {
  name = 'FsmaReadModel1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE fsma_lots (
        batch_id       uuid PRIMARY KEY,
        domain         text NOT NULL,
        gtin           char(14) NOT NULL,
        lot            text NOT NULL,
        -- NULL for registrations announced before BatchRegistered carried it.
        product_name   text,
        owner_org_id   text NOT NULL,
        -- Where the lot code was assigned (the FSMA "TLC source").
        location_id    text NOT NULL,
        quantity_value text,
        quantity_unit  text,
        produced_at    timestamptz NOT NULL,
        -- Transformation inputs: [{ batchId, quantity: { value, unit } }].
        inputs         jsonb NOT NULL DEFAULT '[]',
        -- Reference documents of the registration: [{ type, id }].
        documents      jsonb NOT NULL DEFAULT '[]'
      )`);
    await q.query(`CREATE INDEX fsma_lots_gtin_lot_idx ON fsma_lots (gtin, lot)`);
    await q.query(`
      CREATE TABLE fsma_events (
        batch_id       uuid NOT NULL,
        -- One event per link of a batch's chain.
        seq            bigint NOT NULL,
        event_id       uuid,
        biz_step       text NOT NULL,
        event_time     timestamptz NOT NULL,
        -- The organisation that recorded the event.
        org_id         text NOT NULL,
        location_id    text NOT NULL,
        to_org_id      text,
        to_location_id text,
        quantity_value text,
        quantity_unit  text,
        documents      jsonb NOT NULL DEFAULT '[]',
        PRIMARY KEY (batch_id, seq)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE fsma_events');
    await q.query('DROP TABLE fsma_lots');
  }
}

/**
 * A serialised item is not a traceability lot: `fsma_lots` says which rows
 * hold a serial (BatchRegistered.serial), so an export by GTIN + lot finds the
 * lot and never a serial with the same text.
 */
export class FsmaSerials1765000210000 implements MigrationInterface {
  name = 'FsmaSerials1765000210000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE fsma_lots ADD COLUMN serial boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE fsma_lots DROP COLUMN serial');
  }
}

/**
 * A captured EPCIS event's hash and whether the link is an errorDeclaration
 * (TraceEventRecorded.epcis_hash/epcis_error): the sheet leaves out a
 * declaration and the event it declares erroneous, whichever arrives first.
 */
export class FsmaErrorDeclarations1765300415000 implements MigrationInterface {
  name = 'FsmaErrorDeclarations1765300415000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE fsma_events ADD COLUMN epcis_hash text, ADD COLUMN epcis_error boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE fsma_events DROP COLUMN epcis_hash, DROP COLUMN epcis_error');
  }
}
