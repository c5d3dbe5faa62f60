import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { nextLink } from '@trace/trace-chain';

export interface SeedBatch {
  id: string;
  domain: 'agri' | 'food';
  gtin: string;
  lot: string;
  /** The batch it was made from (one input, quantity 1), if any. */
  parent: string | null;
  parentDomain: 'agri' | 'food' | null;
  quantity: number;
  unit: string;
}

/** Who made the seeded batches: agri ones at the farm, food ones at the plant. */
export interface SeedOrgs {
  farm: { org: string; location: string };
  plant: { org: string; location: string };
}

/**
 * Writes batches (agri and food) straight into the domain and lineage tables
 * of an app with schema prefix `prefix`, as committed by their services and
 * projected by another lineage replica: each batch with a real one-link chain
 * (commissioning or transforming event hashed as the service hashes it), its
 * lineage node, an edge from its parent, and (where the tables exist) its
 * maker holding all of it, in the domain and in lineage. Set-based, so ten thousand
 * batches take a second; the running lineage replica picks the rows up on its
 * next catch-up. For benchmarks, and for tests of what lineage learns late.
 */
export async function seedTree(
  db: Client,
  prefix: string,
  batches: SeedBatch[],
  orgs: SeedOrgs,
) {
  const producedAt = new Date(Date.now() - 86_400_000);
  const holdings = (await db.query(`SELECT to_regclass($1) AS t`, [`${prefix}lineage.lineage_holdings`])).rows[0].t !== null;
  for (const domain of ['agri', 'food'] as const) {
    const mine = batches.filter((b) => b.domain === domain);
    const who = domain === 'agri' ? orgs.farm : orgs.plant;
    for (let at = 0; at < mine.length; at += 2000) {
      const chunk = mine.slice(at, at + 2000);
      const events = chunk.map((b) => {
        const eventId = randomUUID();
        const inputs = b.parent ? [{ domain: b.parentDomain, batchId: b.parent, quantity: 1 }] : undefined;
        const content = {
          eventId,
          batchId: b.id,
          bizStep: inputs ? 'transforming' : 'commissioning',
          disposition: 'active',
          eventTime: producedAt.toISOString(),
          locationId: who.location,
          orgId: who.org,
          quantity: { value: b.quantity, unit: b.unit },
          ...(inputs ? { inputs } : {}),
        };
        return { eventId, content, link: nextLink(undefined, content, { bizStep: content.bizStep, disposition: 'active', eventTime: producedAt, orgId: who.org }) };
      });
      await db.query(
        `INSERT INTO ${prefix}${domain}.batches (id, domain, gtin, lot, quantity_value, quantity_initial, quantity_unit, owner_org_id, holder_org_id,
                                               location_id, produced_at, chain_seq, chain_head)
         SELECT id, $2, gtin, lot, q, q, unit, $3, $3, $4, $5, 1, head
           FROM unnest($1::uuid[], $6::text[], $7::text[], $8::numeric[], $9::text[], $10::text[]) AS u (id, gtin, lot, q, unit, head)`,
        [chunk.map((b) => b.id), domain, who.org, who.location, producedAt, chunk.map((b) => b.gtin), chunk.map((b) => b.lot),
          chunk.map((b) => b.quantity), chunk.map((b) => b.unit), events.map((e) => e.link.hash)],
      );
      await db.query(
        `INSERT INTO ${prefix}${domain}.trace_events (id, batch_id, seq, biz_step, disposition, event_time, org_id, content, prev_hash, hash)
         SELECT id, batch_id, 1, step, 'active', $3, $4, content, prev, hash
           FROM unnest($1::uuid[], $2::uuid[], $5::text[], $6::jsonb[], $7::text[], $8::text[]) AS u (id, batch_id, step, content, prev, hash)`,
        [events.map((e) => e.eventId), chunk.map((b) => b.id), producedAt, who.org, events.map((e) => e.content.bizStep),
          events.map((e) => JSON.stringify(e.content)), events.map((e) => e.link.prevHash), events.map((e) => e.link.hash)],
      );
      await db.query(
        `INSERT INTO ${prefix}lineage.lineage_nodes (batch_id, domain, gtin, lot, registered, owner_org_id, holder_org_id, quantity_value, quantity_unit, location_id)
         SELECT id, $2, gtin, lot, true, $3, $3, q, unit, $4
           FROM unnest($1::uuid[], $5::text[], $6::text[], $7::numeric[], $8::text[]) AS u (id, gtin, lot, q, unit)`,
        [chunk.map((b) => b.id), domain, who.org, who.location, chunk.map((b) => b.gtin), chunk.map((b) => b.lot), chunk.map((b) => b.quantity), chunk.map((b) => b.unit)],
      );
      if (holdings) {
        await db.query(
          `INSERT INTO ${prefix}${domain}.batch_holdings (batch_id, org_id, quantity, received) SELECT id, $2, q, q FROM unnest($1::uuid[], $3::numeric[]) AS u (id, q)`,
          [chunk.map((b) => b.id), who.org, chunk.map((b) => b.quantity)],
        );
        await db.query(
          `INSERT INTO ${prefix}lineage.lineage_holdings (batch_id, seq, unit, holdings)
           SELECT id, 0, unit, jsonb_build_array(jsonb_build_object('orgId', $2::text, 'quantity', q, 'inTransit', 0, 'received', q))
             FROM unnest($1::uuid[], $3::numeric[], $4::text[]) AS u (id, q, unit)`,
          [chunk.map((b) => b.id), who.org, chunk.map((b) => b.quantity), chunk.map((b) => b.unit)],
        );
      }
      const withParent = chunk.filter((b) => b.parent);
      if (withParent.length) {
        await db.query(
          `INSERT INTO ${prefix}lineage.lineage_edges (from_batch, to_batch, kind) SELECT f, t, 'input' FROM unnest($1::uuid[], $2::uuid[]) AS u (f, t)`,
          [withParent.map((b) => b.parent), withParent.map((b) => b.id)],
        );
      }
    }
  }
}

