import { notFound } from '@trace/platform';
import { toProductView, type ProductRow } from '../rows';
import type { TraceCore } from './core';

/** A product of this domain by id (404 when there is none). */
export async function getProduct(core: TraceCore, id: string) {
  const [row] = (await core.dataSource.query('SELECT * FROM products WHERE id = $1', [id])) as ProductRow[];
  if (!row) throw notFound('product', `No product ${id} in ${core.domain}`);
  return toProductView(row);
}
