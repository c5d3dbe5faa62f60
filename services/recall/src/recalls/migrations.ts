import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Recalls (DOMAIN.md §7), in the recall schema: the recall, its scope as
 * computed from lineage when it started (every batch downstream of the named
 * ones, with its holder then), and each organisation's acknowledgement of the
 * quantities it recovered, destroyed or had already sold, per batch.
 */
export class RecallRecalls1764000013100 implements MigrationInterface {
  name = 'RecallRecalls1764000013100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE recalls (
        id               uuid PRIMARY KEY,
        status           text NOT NULL CHECK (status IN ('active', 'closed')),
        level            smallint NOT NULL CHECK (level BETWEEN 1 AND 3),
        reason           text NOT NULL,
        hazard           text,
        regulator_org_id text NOT NULL,
        -- The inspection case it was started from, if any: one recall per case.
        case_id          uuid UNIQUE,
        start_by         timestamptz NOT NULL,
        complete_by      timestamptz NOT NULL,
        created_at       timestamptz NOT NULL,
        closed_at        timestamptz,
        closed_by_org_id text,
        effectiveness    double precision
      )`);
    await q.query(`CREATE INDEX recalls_status_idx ON recalls (status, created_at DESC)`);
    await q.query(`
      CREATE TABLE recall_batches (
        recall_id      uuid NOT NULL REFERENCES recalls (id),
        batch_id       uuid NOT NULL,
        domain         text NOT NULL CHECK (domain IN ('agri', 'food', 'drug', 'material', 'goods')),
        gtin           text,
        lot            text,
        holder_org_id  text,
        quantity_value numeric,
        quantity_unit  text,
        is_root        boolean NOT NULL,
        position       integer NOT NULL,
        PRIMARY KEY (recall_id, batch_id)
      )`);
    // "Which recalls may this operator see": by holder.
    await q.query(`CREATE INDEX recall_batches_holder_idx ON recall_batches (holder_org_id, recall_id)`);
    await q.query(`
      CREATE TABLE recall_acknowledgements (
        recall_id       uuid NOT NULL,
        batch_id        uuid NOT NULL,
        org_id          text NOT NULL,
        recovered       numeric NOT NULL CHECK (recovered >= 0),
        destroyed       numeric NOT NULL CHECK (destroyed >= 0),
        sold            numeric NOT NULL CHECK (sold >= 0),
        first_at        timestamptz NOT NULL,
        updated_at      timestamptz NOT NULL,
        PRIMARY KEY (recall_id, batch_id),
        FOREIGN KEY (recall_id, batch_id) REFERENCES recall_batches (recall_id, batch_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE recall_acknowledgements');
    await q.query('DROP TABLE recall_batches');
    await q.query('DROP TABLE recalls');
  }
}

/** Where each batch in scope was when the recall started (lineage follows receiving). */
export class RecallScopeLocations1764000013200 implements MigrationInterface {
  name = 'RecallScopeLocations1764000013200';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE recall_batches ADD COLUMN location_id text');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE recall_batches DROP COLUMN location_id');
  }
}


/** When a batch joined a running recall's scope (lineage learned of it late); null for the scope computed at the start. */
export class RecallScopeGrowth1764000013300 implements MigrationInterface {
  name = 'RecallScopeGrowth1764000013300';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE recall_batches ADD COLUMN added_at timestamptz');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE recall_batches DROP COLUMN added_at');
  }
}

/**
 * Recalls over holdings (API.md "Recalls"): who held how much of each batch in
 * scope when the recall started (or when the batch joined it), in transit
 * included, with what each organisation had been given by then, so that an
 * acknowledgement is checked against what it held plus what it was given
 * since. Several organisations may acknowledge the same batch: one
 * acknowledgement per batch and organisation. Batches under an active recall
 * are looked up by id (a second recall of one is refused).
 */
export class RecallHoldings1765100018200 implements MigrationInterface {
  name = 'RecallHoldings1765100018200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE recall_holdings (
        recall_id  uuid NOT NULL,
        batch_id   uuid NOT NULL,
        org_id     text NOT NULL,
        quantity   numeric NOT NULL CHECK (quantity >= 0),
        in_transit numeric NOT NULL CHECK (in_transit >= 0),
        received   numeric NOT NULL CHECK (received >= 0),
        unit       text,
        PRIMARY KEY (recall_id, batch_id, org_id),
        FOREIGN KEY (recall_id, batch_id) REFERENCES recall_batches (recall_id, batch_id)
      )`);
    await q.query(`CREATE INDEX recall_holdings_org_idx ON recall_holdings (org_id, recall_id)`);
    await q.query(`ALTER TABLE recall_acknowledgements DROP CONSTRAINT recall_acknowledgements_pkey, ADD PRIMARY KEY (recall_id, batch_id, org_id)`);
    await q.query(`CREATE INDEX recall_batches_batch_idx ON recall_batches (batch_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX recall_batches_batch_idx');
    await q.query(`ALTER TABLE recall_acknowledgements DROP CONSTRAINT recall_acknowledgements_pkey, ADD PRIMARY KEY (recall_id, batch_id)`);
    await q.query('DROP TABLE recall_holdings');
  }
}

/**
 * A recall's scope and holdings are written ten thousand rows at a time, and
 * a foreign key checks each row on its own (one look-up per row, in a trigger):
 * for a recall of 10,101 batches that was about 40 % of writing recall_batches
 * and of recall_holdings, the larger part of what starting a recall had got
 * slower by (scripts/bench/README.md, "Recall propagation"). The two keys go;
 * the statements that write the rows check the same thing once per statement
 * (RecallService.insertScope: the recall is there; insertHoldings: a holding
 * only for a batch in the recall's scope). Nothing deletes either parent.
 */
export class RecallScopeSetChecked1765400031800 implements MigrationInterface {
  name = 'RecallScopeSetChecked1765400031800';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE recall_holdings DROP CONSTRAINT recall_holdings_recall_id_batch_id_fkey');
    await q.query('ALTER TABLE recall_batches DROP CONSTRAINT recall_batches_recall_id_fkey');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE recall_batches ADD FOREIGN KEY (recall_id) REFERENCES recalls (id)');
    await q.query('ALTER TABLE recall_holdings ADD FOREIGN KEY (recall_id, batch_id) REFERENCES recall_batches (recall_id, batch_id)');
  }
}

/**
 * The recall list pages newest first (`ORDER BY created_at DESC, id DESC
 * LIMIT n`, recall-list.query.ts). Only the status filter had an index in that
 * order, so the unfiltered list — a regulator's default — read and sorted every
 * recall ever made to give one page (scripts/bench/plans.ts found it).
 */
export class RecallListOrder1765500020100 implements MigrationInterface {
  name = 'RecallListOrder1765500020100';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX recalls_created_idx ON recalls (created_at DESC, id DESC)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX recalls_created_idx');
  }
}

export const RECALLS_MIGRATIONS = [
  RecallRecalls1764000013100,
  RecallScopeLocations1764000013200,
  RecallScopeGrowth1764000013300,
  RecallHoldings1765100018200,
  RecallScopeSetChecked1765400031800,
  RecallListOrder1765500020100,
];
