import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Custody per organisation and quantity (API.md "Quantities and custody").
 *
 * `batch_holdings`: one row per batch and organisation — what it has received
 * and still holds, what is in transit to it, what it was ever given, what it
 * took out of the supply chain (consumed, destroyed, sold, dispensed) and what
 * was lost on the way to it (received less than shipped). Mass balance is a
 * constraint of the database: at commit, the batch's rows add up to at most
 * what it was produced with (a deferred constraint trigger), whatever wrote them.
 *
 * `batch_shipments`: every shipment, its sender, receiver and what of it is
 * still in transit — where a recalled batch may be returned to, and what a
 * void_shipping gives back.
 *
 * Existing batches start with their one holder holding what the batch has
 * left, or with it in transit to the receiver named by an open shipment.
 */
export class TraceChainHoldings1765100018000 implements MigrationInterface {
  name = 'TraceChainHoldings1765100018000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE batch_holdings (
        batch_id   uuid NOT NULL REFERENCES batches (id),
        org_id     text NOT NULL,
        quantity   numeric NOT NULL DEFAULT 0 CHECK (quantity >= 0),
        in_transit numeric NOT NULL DEFAULT 0 CHECK (in_transit >= 0),
        received   numeric NOT NULL DEFAULT 0 CHECK (received >= 0),
        taken      numeric NOT NULL DEFAULT 0 CHECK (taken >= 0),
        lost       numeric NOT NULL DEFAULT 0 CHECK (lost >= 0),
        PRIMARY KEY (batch_id, org_id)
      )`);
    await q.query(`CREATE INDEX batch_holdings_org_idx ON batch_holdings (org_id)`);
    await q.query(`
      CREATE TABLE batch_shipments (
        event_id    uuid PRIMARY KEY,
        batch_id    uuid NOT NULL REFERENCES batches (id),
        from_org_id text NOT NULL,
        to_org_id   text NOT NULL,
        quantity    numeric NOT NULL CHECK (quantity > 0),
        outstanding numeric NOT NULL CHECK (outstanding >= 0 AND outstanding <= quantity),
        disposition text,
        shipped_at  timestamptz NOT NULL,
        closed_by   uuid
      )`);
    await q.query(`CREATE INDEX batch_shipments_batch_idx ON batch_shipments (batch_id, to_org_id)`);
    await q.query(`
      CREATE FUNCTION batch_holdings_mass_balance() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        accounted numeric;
        produced  numeric;
      BEGIN
        EXECUTE format('SELECT COALESCE(sum(quantity + in_transit + taken + lost), 0) FROM %I.batch_holdings WHERE batch_id = $1', TG_TABLE_SCHEMA)
          INTO accounted USING NEW.batch_id;
        EXECUTE format('SELECT COALESCE(quantity_initial, quantity_value) FROM %I.batches WHERE id = $1', TG_TABLE_SCHEMA)
          INTO produced USING NEW.batch_id;
        IF accounted > produced THEN
          RAISE EXCEPTION 'mass balance of batch %: % accounted for, % produced', NEW.batch_id, accounted, produced
            USING ERRCODE = '23514', CONSTRAINT = 'batch_holdings_mass_balance';
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE CONSTRAINT TRIGGER batch_holdings_mass_balance AFTER INSERT OR UPDATE ON batch_holdings
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION batch_holdings_mass_balance()`);
    // Consumption before holdings: what the batch lost since it was made was taken by its holder.
    await q.query(`
      INSERT INTO batch_holdings (batch_id, org_id, quantity, received, taken)
      SELECT id, holder_org_id,
             CASE WHEN pending_receiver_org_id IS NULL THEN quantity_value ELSE 0 END,
             CASE WHEN holder_org_id = owner_org_id THEN COALESCE(quantity_initial, quantity_value) ELSE quantity_value END,
             GREATEST(COALESCE(quantity_initial, quantity_value) - quantity_value, 0)
        FROM batches`);
    await q.query(`
      INSERT INTO batch_holdings (batch_id, org_id, in_transit, received)
      SELECT id, pending_receiver_org_id, quantity_value, quantity_value FROM batches
       WHERE pending_receiver_org_id IS NOT NULL AND pending_receiver_org_id <> holder_org_id
      ON CONFLICT DO NOTHING`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE batch_shipments');
    await q.query('DROP TABLE batch_holdings');
    await q.query('DROP FUNCTION batch_holdings_mass_balance');
  }
}

export const HOLDINGS_MIGRATIONS = [TraceChainHoldings1765100018000];
