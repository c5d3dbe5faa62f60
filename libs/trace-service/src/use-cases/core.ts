import type { DataSource, EntityManager } from 'typeorm';
import type { Outbox } from '@trace/messaging';
import { Gs1Error, normalizeGtin } from '@trace/gs1';
import { badRequest, notFound, unprocessable, type Directory, type Principal } from '@trace/platform';
import type { DomainRules } from '@trace/trace-chain';
import type { DomainHooks } from '../batch.service';
import type { DomainName } from '../domains';
import { HoldingsStore } from '../store';
import type { BatchRow } from '../rows';

/** What every use case of a domain's trace core works with. */
export interface TraceCore {
  domain: DomainName;
  dataSource: DataSource;
  outbox: Outbox;
  rules: DomainRules;
  directory?: Directory;
  hooks: DomainHooks;
}

/**
 * The batch row if the principal may see it: operators see what their
 * organisation owns, holds, held or has in transit to it; inspectors and
 * regulators see all. Anything else is a 404, as for a batch that does not exist.
 */
export async function visibleBatchRow(core: Pick<TraceCore, 'domain' | 'dataSource'>, id: string, principal: Principal, m: EntityManager = core.dataSource.manager): Promise<BatchRow> {
  const [row] = (await m.query('SELECT * FROM batches WHERE id = $1', [id])) as BatchRow[];
  if (row && principal.role === 'operator') {
    const [held] = await m.query('SELECT 1 FROM batch_custody WHERE batch_id = $1 AND org_id = $2', [id, principal.orgId]);
    if (held || row.owner_org_id === principal.orgId || (await HoldingsStore.involves(m, id, principal.orgId))) return row;
  } else if (row) return row;
  throw notFound('batch', `No batch ${id} in ${core.domain}`);
}

/** A location of the directory (the caller's own unless `whose` is 'any'); 422 when unknown or another's. */
export async function requireLocation(core: TraceCore, id: string, principal: Principal, whose: 'own' | 'any' = 'own') {
  if (!core.directory) return undefined;
  const location = await core.directory.location(id);
  if (!location) throw unprocessable('unknown-location', `No location ${id}`);
  if (whose === 'own' && location.orgId !== principal.orgId) {
    throw unprocessable('location-owner', `Location ${id} belongs to another organisation`);
  }
  return location;
}

/** The GTIN normalised to 14 digits, or a 400 naming the field. */
export function gtinOrThrow(input: string): string {
  try {
    return normalizeGtin(input);
  } catch (err) {
    if (err instanceof Gs1Error) throw badRequest('gtin', err.message, [{ field: 'gtin', message: err.message }]);
    throw err;
  }
}
