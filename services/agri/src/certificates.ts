import { randomBytes } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Inject, Injectable, Optional, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { DataSource, type EntityManager } from 'typeorm';
import { Outbox } from '@trace/messaging';
import {
  ApiJsonResponse,
  badRequest,
  CurrentPrincipal,
  DIRECTORY,
  notFound,
  refusalError,
  Roles,
  type Directory,
  type Principal,
} from '@trace/platform';
import { CERTIFICATE_EXAMPLE } from './openapi-examples';
import { announceCertificate, BatchService, readHoldings, type BatchRow, type DomainHooks } from '@trace/trace-service';
import { CERTIFIED_MOVEMENTS, certificateIssuable, certificateNumber, isCertificateNumber, validateCertificateRequest } from './agri.rules';
import { IssueCertificateDto } from './certificate.dto';

interface CertificateRow {
  number: string;
  batch_id: string;
  issuer_org_id: string;
  issued_at: Date;
  content: CertificateContent;
  status: string;
}

interface CertificateContent {
  product: { gtin: string; name: string; category: string };
  lot: string;
  quantity: { value: number; unit: string };
  origin: string;
  producer: { orgId: string; name: string | null };
  contact: string;
  commitments: string[];
  basis: string;
}

/** The facts the agri rules need, read in the core's event transaction. */
export const agriHooks: DomainHooks = {
  async publicCertificates(m: EntityManager, batchId: string) {
    const rows: { number: string; issued_at: Date }[] = await m.query(
      `SELECT number, issued_at FROM certificates WHERE batch_id = $1 AND status = 'valid'`,
      [batchId],
    );
    return rows.map((r) => ({
      kind: 'agri_compliance',
      number: r.number,
      issuedAt: r.issued_at.toISOString(),
      verifyLink: `/v1/certificates/${r.number}`,
    }));
  },
  async eventFacts(m: EntityManager, ctx) {
    if (!(CERTIFIED_MOVEMENTS as readonly string[]).includes(ctx.event.bizStep)) return {};
    const [row] = await m.query(`SELECT number FROM certificates WHERE batch_id = $1 AND status = 'valid'`, [ctx.batch.id]);
    return { certificateNumber: row?.number ?? null };
  },
  async eventFactsOfBatches(m: EntityManager, batchIds: readonly string[]) {
    const rows: { batch_id: string; number: string }[] = batchIds.length
      ? await m.query(`SELECT batch_id, number FROM certificates WHERE batch_id = ANY($1::uuid[]) AND status = 'valid'`, [batchIds])
      : [];
    const number = new Map(rows.map((r) => [r.batch_id, r.number]));
    return new Map(batchIds.map((id) => [id, { certificateNumber: number.get(id) ?? null }]));
  },
};

/**
 * Issues and verifies commitment-to-compliance certificates (承诺达标合格证).
 * The certificate is a record of the agri service (its own table), announced
 * as `certificateIssued` through the outbox in the same transaction; it is
 * not a link of the batch's chain, because it is a declaration about the
 * batch rather than something that happened to the goods (CBV has no
 * certifying bizStep; EPCIS carries it as certificationInfo).
 */
@Injectable()
export class CertificateService {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(BatchService) private readonly batches: BatchService,
    @Optional() @Inject(DIRECTORY) private readonly directory?: Directory,
  ) {}

  async issue(batchId: string, dto: IssueCertificateDto, principal: Principal) {
    const invalid = validateCertificateRequest(dto);
    if (invalid) throw refusalError(invalid);
    await this.batches.get(batchId, principal); // 404 for a batch the caller may not see
    const producer = (await this.directory?.organisation(principal.orgId))?.name ?? null;
    return this.ds.transaction(async (m) => {
      const [batch] = (await m.query('SELECT * FROM batches WHERE id = $1 FOR UPDATE', [batchId])) as BatchRow[];
      const [existing] = await m.query('SELECT number FROM certificates WHERE batch_id = $1', [batchId]);
      const refusal = certificateIssuable({ id: batch.id, status: batch.status as never }, principal.orgId, await readHoldings(m, batch.id), existing?.number);
      if (refusal) throw refusalError(refusal);
      const [product] = await m.query('SELECT gtin, name, category FROM products WHERE id = $1', [batch.product_id]);
      const issuedAt = new Date();
      const content: CertificateContent = {
        product: { gtin: batch.gtin, name: product?.name ?? '', category: batch.product_category ?? '' },
        lot: batch.lot,
        quantity: { value: Number(batch.quantity_value), unit: batch.quantity_unit },
        origin: dto.origin.trim(),
        producer: { orgId: principal.orgId, name: producer },
        contact: dto.contact.trim(),
        commitments: dto.commitments.map((c) => c.trim()),
        basis: dto.basis,
      };
      let number = '';
      for (let attempt = 0; !number; attempt++) {
        if (attempt === 5) throw new Error('could not draw a unique certificate number');
        const candidate = certificateNumber(issuedAt, randomBytes(5));
        const rows = await m.query(
          `INSERT INTO certificates (number, batch_id, issuer_org_id, issued_at, content) VALUES ($1,$2,$3,$4,$5)
           ON CONFLICT (number) DO NOTHING RETURNING number`,
          [candidate, batchId, principal.orgId, issuedAt, content],
        );
        if (rows.length) number = candidate;
      }
      await announceCertificate(m, this.outbox, { domain: 'agri', batchId, number, kind: 'agri_compliance', issuedAt: issuedAt, issuerOrgId: principal.orgId });
      return { number, issuedAt: issuedAt.toISOString(), batchId, qrLink: `/v1/certificates/${number}`, ...content };
    });
  }

  async forBatch(batchId: string, principal: Principal) {
    await this.batches.get(batchId, principal);
    const [row] = (await this.ds.query('SELECT * FROM certificates WHERE batch_id = $1', [batchId])) as CertificateRow[];
    if (!row) throw notFound('certificate', `Batch ${batchId} has no certificate`);
    return this.view(row);
  }

  /** Public verification: what the QR code on the certificate leads to. */
  async verify(number: string) {
    if (!isCertificateNumber(number)) {
      throw badRequest('certificate-number', 'A certificate number looks like AC20261120-7K3QX9PM', [
        { field: 'number', message: 'AC + YYYYMMDD + "-" + 8 characters' },
      ]);
    }
    const [row] = (await this.ds.query('SELECT * FROM certificates WHERE number = $1', [number])) as CertificateRow[];
    if (!row) throw notFound('certificate', `No certificate ${number}`);
    // Anyone may verify (the consumer scan links here): what the paper certificate shows, not our internal ids.
    const { batch: { id: _batchId, ...batch }, producer: { orgId: _orgId, ...producer }, ...rest } = await this.view(row);
    return { ...rest, batch, producer };
  }

  private async view(row: CertificateRow) {
    const [batch] = (await this.ds.query('SELECT * FROM batches WHERE id = $1', [row.batch_id])) as BatchRow[];
    const c = row.content;
    return {
      number: row.number,
      status: row.status,
      issuedAt: row.issued_at.toISOString(),
      batch: {
        id: row.batch_id,
        domain: 'agri',
        gtin: batch.gtin,
        lot: batch.lot,
        status: batch.status,
        digitalLink: `/01/${batch.gtin}/10/${encodeURIComponent(batch.lot)}`,
      },
      product: c.product,
      quantity: c.quantity,
      producer: c.producer,
      origin: c.origin,
      contact: c.contact,
      commitments: c.commitments,
      basis: c.basis,
      qrLink: `/v1/certificates/${row.number}`,
    };
  }
}

const uuid = () => new ParseUUIDPipe({ version: '4' });

@ApiTags('agri')
@ApiBearerAuth()
@Controller('v1/agri/batches')
export class AgriCertificateController {
  constructor(@Inject(CertificateService) private readonly certificates: CertificateService) {}

  @Post(':id/certificate')
  @HttpCode(201)
  @Roles('operator')
  @ApiJsonResponse(201, '{ number, issuedAt, batchId, qrLink } and the certificate content', CERTIFICATE_EXAMPLE)
  issue(@Param('id', uuid()) id: string, @Body() dto: IssueCertificateDto, @CurrentPrincipal() principal: Principal) {
    return this.certificates.issue(id, dto, principal);
  }

  @Get(':id/certificate')
  @ApiJsonResponse(200, "The batch's certificate", CERTIFICATE_EXAMPLE)
  get(@Param('id', uuid()) id: string, @CurrentPrincipal() principal: Principal) {
    return this.certificates.forBatch(id, principal);
  }
}
