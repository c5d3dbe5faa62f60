import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ClaimAnswer, GtinClaim, IdentityClaims, ItemClaim, ItemKind, ItemLocation, ItemRef } from '@trace/contracts';

/**
 * The one writer of the identity claims (`gtin_claims`, `item_claims`): which
 * organisation a GTIN belongs to across all domains, and which domain a lot or
 * a serial of a GTIN lives in. Domains claim before they write (see
 * libs/contracts/src/identity-claims.ts for why here and not in lineage); the
 * scan locates a Digital Link here. Each claim is an INSERT … ON CONFLICT DO
 * NOTHING and a read of the row that won: two domains claiming the same lot
 * at the same moment cannot both be granted (the primary key decides).
 */
@Injectable()
export class IdentityClaimsService implements IdentityClaims {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  async claimGtin(c: GtinClaim): Promise<ClaimAnswer> {
    await this.ds.query(`INSERT INTO gtin_claims (gtin, org_id, domain) VALUES ($1, $2, $3) ON CONFLICT (gtin) DO NOTHING`, [c.gtin, c.orgId, c.domain]);
    const [held] = (await this.ds.query('SELECT org_id, domain FROM gtin_claims WHERE gtin = $1', [c.gtin])) as { org_id: string; domain: string }[];
    // An organisation uses its GTIN in as many domains as it likes; another organisation in none.
    return held.org_id === c.orgId ? { granted: true, domain: c.domain } : { granted: false, domain: held.domain };
  }

  async claimItems(claims: readonly ItemClaim[]): Promise<ClaimAnswer[]> {
    if (claims.length === 0) return [];
    const rows = JSON.stringify(claims.map((c) => ({ gtin: c.gtin, kind: c.kind, value: c.value, domain: c.domain, org_id: c.orgId })));
    type Held = { gtin: string; kind: string; value: string; domain: string };
    const key = (h: { gtin: string; kind: string; value: string }) => `${h.gtin}|${h.kind}|${h.value}`;
    // The claims and the rows that hold them in one statement: what it inserted, and what was there before it began.
    let held = (await this.ds.query(
      `WITH x AS MATERIALIZED (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(gtin char(14), kind text, value text, domain text, org_id text)),
       ins AS (INSERT INTO item_claims (gtin, kind, value, domain, org_id)
               SELECT gtin, kind, value, domain, org_id FROM x
               ON CONFLICT (gtin, kind, value) DO NOTHING
               RETURNING gtin, kind, value, domain)
       SELECT gtin, kind, value, domain FROM ins
       UNION ALL
       SELECT c.gtin, c.kind, c.value, c.domain FROM jsonb_to_recordset($1::jsonb) AS y(gtin char(14), kind text, value text)
         -- One primary-key probe per claim (LIMIT keeps the subquery apart): joined, the recordset guessed at 100 rows
         -- made the planner hash-join a whole scan of item_claims at 10k rows (scripts/bench/plans.ts).
         CROSS JOIN LATERAL (SELECT * FROM item_claims c WHERE c.gtin = y.gtin AND c.kind = y.kind AND c.value = y.value LIMIT 1) c`,
      [rows],
    )) as Held[];
    // A claim another transaction committed while this statement ran is in neither half (its snapshot began
    // before): read the rows that won again, as the statement after the INSERT used to.
    // A set of the keys, not a search of the rows per claim: that was quadratic, 85 ms of a blocked event
    // loop for the 1,000 lots of one capture (and a hundred times that for 10,000 serials).
    const answered = new Set(held.map(key));
    if (claims.some((c) => !answered.has(key(c)))) {
      held = (await this.ds.query(
        `SELECT c.gtin, c.kind, c.value, c.domain FROM item_claims c
           JOIN jsonb_to_recordset($1::jsonb) AS x(gtin char(14), kind text, value text) ON c.gtin = x.gtin AND c.kind = x.kind AND c.value = x.value`,
        [rows],
      )) as Held[];
    }
    const where = new Map(held.map((h) => [key(h), h.domain]));
    // Within its domain a lot is the domain's own business (its unique index refuses a second batch);
    // across domains the first claim holds.
    return claims.map((c) => {
      const domain = where.get(key(c)) as string;
      return { granted: domain === c.domain, domain };
    });
  }

  async locateMany(items: readonly ItemRef[]): Promise<(ItemLocation | undefined)[]> {
    if (items.length === 0) return [];
    const held = (await this.ds.query(
      `SELECT c.gtin, c.kind, c.value, c.domain FROM item_claims c
         JOIN jsonb_to_recordset($1::jsonb) AS x(gtin char(14), kind text, value text) ON c.gtin = x.gtin AND c.kind = x.kind AND c.value = x.value`,
      [JSON.stringify(items.map((i) => ({ gtin: i.gtin, kind: i.kind, value: i.value })))],
    )) as { gtin: string; kind: string; value: string; domain: string }[];
    const where = new Map(held.map((h) => [`${h.gtin}|${h.kind}|${h.value}`, h.domain]));
    return items.map((i) => {
      const domain = where.get(`${i.gtin}|${i.kind}|${i.value}`);
      return domain === undefined ? undefined : { domain };
    });
  }

  async locate(gtin: string, kind: ItemKind, value: string): Promise<ItemLocation | undefined> {
    const [row] = (await this.ds.query('SELECT domain FROM item_claims WHERE gtin = $1 AND kind = $2 AND value = $3', [gtin, kind, value])) as { domain: string }[];
    return row ? { domain: row.domain } : undefined;
  }
}
