import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Domain } from '@trace/contracts';
import { Gs1Error, normalizeGtin } from '@trace/gs1';
import { Outbox } from '@trace/messaging';
import { badRequest, conflict, notFound, type Principal } from '@trace/platform';
import { nextLink } from '@trace/trace-chain';
import type { RegisterBatchDto } from './dto';

export const DOMAINS = ['agri', 'food', 'drug', 'material', 'goods'] as const;
export type DomainName = (typeof DOMAINS)[number];

export const DOMAIN_ENUM: Record<DomainName, Domain> = {
  agri: Domain.AGRI,
  food: Domain.FOOD,
  drug: Domain.DRUG,
  material: Domain.MATERIAL,
  goods: Domain.GOODS,
};

export interface BatchView {
  id: string;
  domain: DomainName;
  gtin: string;
  lot: string;
  quantity: { value: number; unit: string };
  status: string;
  ownerOrgId: string;
  holderOrgId: string;
  locationId: string;
  producedAt: string;
  expiresAt: string | null;
  attributes: Record<string, unknown>;
  digitalLink: string;
  chainHead: string;
}

interface BatchRow {
  id: string;
  domain: DomainName;
  gtin: string;
  lot: string;
  quantity_value: string;
  quantity_unit: string;
  status: string;
  owner_org_id: string;
  holder_org_id: string;
  location_id: string;
  produced_at: Date;
  expires_at: Date | null;
  attributes: Record<string, unknown>;
  chain_head: string;
}

function toView(r: BatchRow): BatchView {
  return {
    id: r.id,
    domain: r.domain,
    gtin: r.gtin,
    lot: r.lot,
    quantity: { value: Number(r.quantity_value), unit: r.quantity_unit },
    status: r.status,
    ownerOrgId: r.owner_org_id,
    holderOrgId: r.holder_org_id,
    locationId: r.location_id,
    producedAt: r.produced_at.toISOString(),
    expiresAt: r.expires_at ? r.expires_at.toISOString() : null,
    attributes: r.attributes,
    digitalLink: `/01/${r.gtin}/10/${encodeURIComponent(r.lot)}`,
    chainHead: r.chain_head.trim(),
  };
}

/**
 * Batch registration, shared by all five domains: the batch row, its first
 * chain link and the BatchRegistered event are written in one transaction.
 */
export class BatchService {
  constructor(
    private readonly domain: DomainName,
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
  ) {}

  async register(dto: RegisterBatchDto, principal: Principal): Promise<BatchView> {
    let gtin: string;
    try {
      gtin = normalizeGtin(dto.gtin);
    } catch (err) {
      if (err instanceof Gs1Error) throw badRequest('gtin', err.message, [{ field: 'gtin', message: err.message }]);
      throw err;
    }
    const producedAt = new Date(dto.producedAt);
    const expiresAt = dto.expiresAt ? new Date(dto.expiresAt) : null;
    if (expiresAt && expiresAt <= producedAt) {
      throw badRequest('expiry', 'expiresAt must be after producedAt', [{ field: 'expiresAt', message: 'must be after producedAt' }]);
    }
    const id = randomUUID();
    const eventId = randomUUID();
    const content = {
      eventId,
      batchId: id,
      bizStep: 'commissioning',
      disposition: 'active',
      eventTime: producedAt.toISOString(),
      locationId: dto.locationId,
      orgId: principal.orgId,
      quantity: dto.quantity,
    };
    const link = nextLink(undefined, content);
    return this.dataSource.transaction(async (m) => {
      const inserted: BatchRow[] = await m.query(
        `INSERT INTO batches (id, domain, gtin, lot, quantity_value, quantity_unit, owner_org_id, holder_org_id,
                              location_id, produced_at, expires_at, attributes, chain_seq, chain_head)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$7,$8,$9,$10,$11,$12,$13)
         ON CONFLICT (gtin, lot) DO NOTHING RETURNING *`,
        [id, this.domain, gtin, dto.lot, dto.quantity.value, dto.quantity.unit, principal.orgId, dto.locationId,
          producedAt, expiresAt, dto.attributes ?? {}, link.seq, link.hash],
      );
      if (inserted.length === 0) {
        throw conflict('duplicate-lot', `A batch with GTIN ${gtin} and lot ${dto.lot} already exists`);
      }
      await m.query(
        `INSERT INTO trace_events (id, batch_id, seq, biz_step, disposition, event_time, org_id, content, prev_hash, hash)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
        [eventId, id, link.seq, 'commissioning', 'active', producedAt, principal.orgId, content, link.prevHash, link.hash],
      );
      await this.outbox.append(
        m,
        'batchRegistered',
        {
          batch: { domain: DOMAIN_ENUM[this.domain], batchId: id },
          gtin,
          lot: dto.lot,
          quantity: { value: String(dto.quantity.value), unit: dto.quantity.unit },
          ownerOrgId: principal.orgId,
          locationId: dto.locationId,
          producedAt: { seconds: BigInt(Math.floor(producedAt.getTime() / 1000)), nanos: (producedAt.getTime() % 1000) * 1e6 },
          chainHead: link.hash,
        },
        { subject: id, orgId: principal.orgId, occurredAt: producedAt },
      );
      return toView(inserted[0]);
    });
  }

  /** Operators see what their organisation owns or holds; inspectors and regulators see all. */
  async get(id: string, principal: Principal): Promise<BatchView> {
    const rows: BatchRow[] = await this.dataSource.query('SELECT * FROM batches WHERE id = $1', [id]);
    const row = rows[0];
    const visible =
      row &&
      (principal.role !== 'operator' || row.owner_org_id === principal.orgId || row.holder_org_id === principal.orgId);
    if (!visible) throw notFound('batch', `No batch ${id} in ${this.domain}`);
    return toView(row);
  }
}
