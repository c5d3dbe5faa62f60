import type { ItemKind, PublicBatchView } from '@trace/contracts';
import { notFound } from '@trace/platform';
import { formatOffsetTime } from '@trace/trace-chain';
import type { BatchRow, EventRow } from '../rows';
import type { TraceCore } from './core';
import { verifyStoredChain } from './verify-chain';

/**
 * What a consumer may see of a batch behind a QR code: product, status,
 * chain validity and the chain's steps (bizStep, disposition, time, place);
 * no quantities in stock, documents or sensor series.
 */
export async function publicView(core: TraceCore, gtin: string, lot: string, kind: ItemKind = 'lot'): Promise<PublicBatchView> {
  const [batch] = (await core.dataSource.query('SELECT * FROM batches WHERE gtin = $1 AND item_kind = $2 AND lot = $3', [gtin, kind, lot])) as BatchRow[];
  if (!batch) throw notFound('batch', `No ${kind === 'lot' ? 'batch' : 'serialised item'} ${lot} of GTIN ${gtin} in ${core.domain}`);
  const [product] = await core.dataSource.query('SELECT * FROM products WHERE id = $1', [batch.product_id]);
  const rows = (await core.dataSource.query('SELECT * FROM trace_events WHERE batch_id = $1 ORDER BY seq', [batch.id])) as EventRow[];
  const chain = verifyStoredChain(batch, rows);
  const origin = rows[0];
  const inspections: { report_no: string; agency: string; sampled_at: Date; sampled_at_offset: string | null; conclusion: string; retest_of: string | null }[] =
    await core.dataSource.query(
      'SELECT report_no, agency, sampled_at, sampled_at_offset, conclusion, retest_of FROM inspections WHERE batch_id = $1 ORDER BY recorded_at',
      [batch.id],
    );
  const certificates = (await core.hooks?.publicCertificates?.(core.dataSource.manager, batch.id)) ?? [];
  return {
    domain: core.domain,
    batch: {
      id: batch.id,
      gtin: batch.gtin,
      lot: batch.lot,
      kind: batch.item_kind,
      status: batch.status,
      producedAt: formatOffsetTime(batch.produced_at, batch.produced_at_offset),
      expiresAt: batch.expires_at ? formatOffsetTime(batch.expires_at, batch.expires_at_offset) : null,
      ownerOrgId: batch.owner_org_id,
      attributes: batch.attributes,
    },
    product: product
      ? { gtin: product.gtin, name: product.name, category: product.category, ...categoryName(core, product.category) }
      : null,
    origin: origin ? { locationId: origin.content.locationId as string, orgId: origin.org_id, at: formatOffsetTime(origin.event_time, origin.event_time_offset) } : null,
    chain: { valid: chain.valid, length: chain.length },
    certificates,
    inspections: inspections.map((i) => ({
      reportNo: i.report_no,
      agency: i.agency,
      sampledAt: formatOffsetTime(i.sampled_at, i.sampled_at_offset),
      conclusion: i.conclusion,
      retest: i.retest_of !== null,
    })),
    history: rows.map((r) => ({
      seq: r.seq,
      bizStep: r.biz_step,
      disposition: r.disposition,
      eventTime: formatOffsetTime(r.event_time, r.event_time_offset),
      locationId: r.content.locationId as string,
      ...(r.content.inputs ? { inputs: r.content.inputs } : {}),
      // A recall's public facts (see recall.handler.ts): the consumer scan shows them.
      ...(r.disposition === 'recalled' && r.content.recallId
        ? { recall: { recallId: r.content.recallId as string, level: r.content.level as number, reason: r.content.reason as string } }
        : {}),
    })),
  };
}

/** The category's zh/en names from the domain's closed list; nothing for a code the list does not (or no longer) have. */
function categoryName(core: TraceCore, code: string): { categoryName?: { zh: string; en: string } } {
  const found = core.rules.categories?.find((c) => c.code === code);
  return found ? { categoryName: { zh: found.name.zh, en: found.name.en } } : {};
}
