import type { DataSource } from 'typeorm';
import type { ItemKind } from '@trace/contracts';
import type { ResolveRequest, ResolveResult } from './contract';

/** Which of the GTINs are products here, and which of the objects (lot or serial) are batches here, with their ids. */
export async function resolveObjects(ds: DataSource, req: ResolveRequest): Promise<ResolveResult> {
  const products = (await ds.query('SELECT gtin FROM products WHERE gtin = ANY($1)', [req.gtins])) as { gtin: string }[];
  const batches = req.objects.length
    ? ((await ds.query(
        `SELECT b.gtin, b.lot, b.item_kind AS kind, b.id FROM batches b
           JOIN unnest($1::text[], $2::text[], $3::text[]) AS o(gtin, lot, kind) ON b.gtin = o.gtin AND b.item_kind = o.kind AND b.lot = o.lot`,
        [req.objects.map((o) => o.gtin), req.objects.map((o) => o.lot), req.objects.map((o) => o.kind ?? 'lot')],
      )) as { gtin: string; lot: string; kind: ItemKind; id: string }[])
    : [];
  return { products: products.map((p) => p.gtin), batches };
}
