import type { DataSource, EntityManager } from 'typeorm';
import type { Outbox } from '@trace/messaging';
import { Gs1Error, normalizeGtin } from '@trace/gs1';
import { badRequest, notFound, unprocessable, type Directory, type Principal } from '@trace/platform';
import type { DomainRules } from '@trace/trace-chain';
import type { DomainHooks } from '../batch.service';
import type { DomainName } from '../domains';
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
 * One statement: the row and the answer to "may they see it" come together.
 * `lock` takes the row lock with it (SELECT … FOR UPDATE, inside the caller's
 * transaction), so a write learns that it may see the batch and locks its
 * chain head in the same round trip.
 */
export async function visibleBatchRow(
  core: Pick<TraceCore, 'domain' | 'dataSource'>,
  id: string,
  principal: Principal,
  m: EntityManager = core.dataSource.manager,
  lock = false,
): Promise<BatchRow> {
  const operator = principal.role === 'operator';
  const [row] = (await m.query(
    `SELECT b.*, ${operator ? VISIBLE_TO_ORG : 'true'} AS visible_to_caller FROM batches b WHERE b.id = $1${lock ? ' FOR UPDATE OF b' : ''}`,
    operator ? [id, principal.orgId] : [id],
  )) as (BatchRow & { visible_to_caller?: boolean })[];
  if (row?.visible_to_caller) {
    delete row.visible_to_caller;
    return row;
  }
  throw notFound('batch', `No batch ${id} in ${core.domain}`);
}

/** Owns it, had custody of it, or holds / held / has in transit a part of it ($2: the organisation). */
const VISIBLE_TO_ORG = `(b.owner_org_id = $2
  OR EXISTS (SELECT 1 FROM batch_custody c WHERE c.batch_id = b.id AND c.org_id = $2)
  OR EXISTS (SELECT 1 FROM batch_holdings h WHERE h.batch_id = b.id AND h.org_id = $2))`;

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
