import { randomUUID } from 'node:crypto';
import type { IdentityClaims } from '@trace/contracts';
import { conflict, refusalError, type Principal } from '@trace/platform';
import { categoryRefusal } from '@trace/trace-chain';
import type { RegisterProductDto } from '../dto';
import { claimGtin } from '../identity';
import { toProductView, type ProductRow } from '../rows';
import { gtinOrThrow, type TraceCore } from './core';

/** Registers a product (GTIN) of the caller's organisation: its category from the domain's list, the GTIN claimed across all domains. */
export async function registerProduct(core: TraceCore, claims: IdentityClaims | undefined, dto: RegisterProductDto, principal: Principal) {
  const gtin = gtinOrThrow(dto.gtin);
  const unknownCategory = core.rules.categories && categoryRefusal(core.rules.categories, dto.category);
  if (unknownCategory) throw refusalError(unknownCategory);
  await claimGtin(claims, core.domain, gtin, principal.orgId);
  const rows = (await core.dataSource.query(
    `INSERT INTO products (id, gtin, name, category, owner_org_id, attributes) VALUES ($1,$2,$3,$4,$5,$6)
     ON CONFLICT (gtin) DO NOTHING RETURNING *`,
    [randomUUID(), gtin, dto.name, dto.category, principal.orgId, dto.attributes ?? {}],
  )) as ProductRow[];
  if (rows.length === 0) throw conflict('duplicate-gtin', `A product with GTIN ${gtin} already exists in ${core.domain}`);
  return toProductView(rows[0]);
}
