import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { Outbox } from '@trace/messaging';
import { badRequest, conflict, DIRECTORY, DomainError, notFound, refusalError, unprocessable, type Directory, type Principal } from '@trace/platform';
import { announceCertificate, BatchService, readHoldings, type BatchRow, type DomainHooks } from '@trace/trace-service';
import type { DispenseDto, RegisterCodesDto, ReleaseDto } from './drug.dto';
import {
  codeDispensable,
  codeFitsBatch,
  dispenserRefusal,
  generateUnitCode,
  MARKET_STEPS,
  parseUnitCode,
  productCodeOf,
  releaseRefusal,
  UnitCodeError,
  verificationStatus,
  type UnitCode,
} from './drug.rules';

function parseOrThrow(input: string, field: string): UnitCode {
  try {
    return parseUnitCode(input);
  } catch (err) {
    if (err instanceof UnitCodeError) throw badRequest(err.rule, err.message, [{ field, message: err.message }]);
    throw err;
  }
}

interface CodeRow {
  code: string;
  kind: string;
  batch_id: string;
  status: string;
  dispensed_at: Date | null;
}

/** The facts the drug rules need, read in the core's event transaction. */
export const drugHooks: DomainHooks = {
  async publicCertificates(m: EntityManager, batchId: string) {
    const rows: { number: string; released_at: Date }[] = await m.query(
      'SELECT number, released_at FROM batch_releases WHERE batch_id = $1',
      [batchId],
    );
    return rows.map((r) => ({ kind: 'drug_batch_release', number: r.number, issuedAt: r.released_at.toISOString() }));
  },
  async eventFacts(m: EntityManager, ctx) {
    if (!(MARKET_STEPS as readonly string[]).includes(ctx.event.bizStep)) return {};
    const [row] = await m.query('SELECT released_at FROM batch_releases WHERE batch_id = $1', [ctx.batch.id]);
    return { releasedAt: row ? (row.released_at as Date).toISOString() : null };
  },
  async eventFactsOfBatches(m: EntityManager, batchIds: readonly string[]) {
    const rows: { batch_id: string; released_at: Date }[] = batchIds.length
      ? await m.query('SELECT batch_id, released_at FROM batch_releases WHERE batch_id = ANY($1::uuid[])', [batchIds])
      : [];
    const released = new Map(rows.map((r) => [r.batch_id, r.released_at.toISOString()]));
    return new Map(batchIds.map((id) => [id, { releasedAt: released.get(id) ?? null }]));
  },
};

/** Unit codes (register, verify, dispense once) and batch release of the drug domain. */
@Injectable()
export class DrugService {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(BatchService) private readonly batches: BatchService,
    @Optional() @Inject(DIRECTORY) private readonly directory?: Directory,
  ) {}

  // --------------------------------------------------------------- unit codes

  async registerCodes(batchId: string, dto: RegisterCodesDto, principal: Principal) {
    if ((dto.codes === undefined) === (dto.count === undefined)) {
      throw badRequest('codes-or-count', 'Send either codes (to register) or count (to generate), not both or neither');
    }
    const given = (dto.codes ?? []).map((c, i) => parseOrThrow(c, `codes[${i}]`));
    const seen = new Set<string>();
    given.forEach((c, i) => {
      if (seen.has(c.code)) throw badRequest('duplicate-code', `${c.code} is listed twice`, [{ field: `codes[${i}]`, message: 'listed twice' }]);
      seen.add(c.code);
    });
    await this.batches.get(batchId, principal);
    return this.ds.transaction(async (m) => {
      const [batch] = (await m.query('SELECT * FROM batches WHERE id = $1 FOR UPDATE', [batchId])) as BatchRow[];
      // Any organisation holding part of the batch now registers codes (on its packs); one that holds none of it any more does not.
      const mine = (await readHoldings(m, batch.id)).find((h) => h.orgId === principal.orgId);
      if (!mine || mine.quantity <= 0) {
        throw new DomainError(403, 'not-the-holder', 'Only an organisation holding some of the batch may register its unit codes');
      }
      if (batch.status !== 'active') throw conflict(`batch-${batch.status}`, `The batch is ${batch.status}: no codes can be added`);
      const [product] = await m.query('SELECT attributes FROM products WHERE id = $1', [batch.product_id]);
      const target = { gtin: batch.gtin, lot: batch.lot, productCode: productCodeOf(product?.attributes) };
      for (const c of given) {
        const r = codeFitsBatch(c, target);
        if (r) throw refusalError(r);
      }
      let codes: string[];
      if (given.length) {
        const inserted = await this.insertCodes(m, batchId, given);
        if (inserted.length < given.length) {
          const taken = given.map((c) => c.code).filter((c) => !inserted.includes(c));
          throw conflict('duplicate-code', `Already registered: ${taken.slice(0, 10).join(', ')}${taken.length > 10 ? ', …' : ''}`, {
            duplicates: taken,
          });
        }
        codes = inserted;
      } else {
        codes = [];
        for (let round = 0; codes.length < (dto.count as number); round++) {
          if (round === 5) throw new Error('could not draw unique unit codes');
          const batchOf = Array.from({ length: (dto.count as number) - codes.length }, () =>
            parseUnitCode(generateUnitCode(target, randomBytes(12))),
          );
          codes.push(...(await this.insertCodes(m, batchId, batchOf)));
        }
      }
      return { batchId, registered: codes.length, codes };
    });
  }

  private async insertCodes(m: EntityManager, batchId: string, codes: UnitCode[]): Promise<string[]> {
    const rows = await m.query(
      `INSERT INTO unit_codes (code, kind, batch_id)
       SELECT c, k, $3 FROM unnest($1::text[], $2::text[]) AS t (c, k)
       ON CONFLICT (code) DO NOTHING RETURNING code`,
      [codes.map((c) => c.code), codes.map((c) => c.kind), batchId],
    );
    return (rows as { code: string }[]).map((r) => r.code);
  }

  /** Public: anyone holding a pack may check it (consumer, pharmacist, inspector). */
  async verify(input: string) {
    const c = parseOrThrow(input, 'code');
    const [code] = (await this.ds.query('SELECT * FROM unit_codes WHERE code = $1', [c.code])) as CodeRow[];
    const [batch] = code ? ((await this.ds.query('SELECT * FROM batches WHERE id = $1', [code.batch_id])) as BatchRow[]) : [];
    const status = verificationStatus(code, batch ? { status: batch.status, expiresAt: batch.expires_at } : undefined, new Date());
    if (!code || !batch) return { status, code: c.code, batch: null };
    const [product] = await this.ds.query('SELECT name, category FROM products WHERE id = $1', [batch.product_id]);
    return {
      status,
      code: c.code,
      ...(code.dispensed_at ? { dispensedAt: code.dispensed_at.toISOString() } : {}),
      batch: {
        id: batch.id,
        gtin: batch.gtin,
        lot: batch.lot,
        status: batch.status,
        expiresAt: batch.expires_at ? batch.expires_at.toISOString() : null,
        product: product ? { name: product.name, category: product.category } : null,
        digitalLink: `/01/${batch.gtin}/10/${encodeURIComponent(batch.lot)}`,
      },
    };
  }

  /**
   * Dispenses one pack: a `dispensing` event on the batch's chain naming the
   * code (disposition partially_dispensed: the batch goes on), through the
   * core, so custody (holder, held/recalled batches) and the drug rules
   * (release, expiry) apply; the code is marked in the same transaction.
   */
  async dispense(dto: DispenseDto, principal: Principal) {
    const c = parseOrThrow(dto.code, 'code');
    const [code] = (await this.ds.query('SELECT * FROM unit_codes WHERE code = $1', [c.code])) as CodeRow[];
    if (!code) throw unprocessable('unknown-code', `No unit code ${c.code} is registered`);
    const kind = dispenserRefusal((await this.directory?.organisation(principal.orgId))?.kind ?? (this.directory ? undefined : 'pharmacy'));
    if (kind) throw refusalError(kind);
    const [batch] = (await this.ds.query('SELECT location_id, quantity_unit FROM batches WHERE id = $1', [code.batch_id])) as BatchRow[];
    const dispensedAt = new Date();
    const ev = await this.batches.recordEvent(
      code.batch_id,
      {
        bizStep: 'dispensing',
        disposition: 'partially_dispensed',
        eventTime: dispensedAt.toISOString(),
        locationId: dto.locationId ?? batch.location_id,
        // One pack, from the dispenser's holding.
        quantity: { value: 1, unit: batch.quantity_unit },
      },
      principal,
      async (m) => {
        const [locked] = (await m.query('SELECT * FROM unit_codes WHERE code = $1 FOR UPDATE', [c.code])) as CodeRow[];
        const r = codeDispensable(locked);
        if (r) throw refusalError(r);
        await m.query(`UPDATE unit_codes SET status = 'dispensed', dispensed_at = $2, dispensed_by_org_id = $3 WHERE code = $1`, [
          c.code,
          dispensedAt,
          principal.orgId,
        ]);
        return { epcList: [c.code] };
      },
    );
    return { code: c.code, batchId: code.batch_id, status: 'DISPENSED', dispensedAt: dispensedAt.toISOString(), event: ev };
  }

  // ------------------------------------------------------------ batch release

  async release(batchId: string, dto: ReleaseDto, principal: Principal) {
    await this.batches.get(batchId, principal);
    return this.ds.transaction(async (m) => {
      const [batch] = (await m.query('SELECT * FROM batches WHERE id = $1 FOR UPDATE', [batchId])) as BatchRow[];
      const [existing] = await m.query('SELECT number FROM batch_releases WHERE batch_id = $1', [batchId]);
      const r = releaseRefusal(batch.status, existing?.number);
      if (r) throw refusalError(r);
      const releasedAt = new Date();
      const number = dto.number ?? `BR${releasedAt.toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(4).toString('hex').toUpperCase()}`;
      const rows = await m.query(
        `INSERT INTO batch_releases (batch_id, number, released_at, regulator_org_id, note) VALUES ($1,$2,$3,$4,$5)
         ON CONFLICT (number) DO NOTHING RETURNING number`,
        [batchId, number, releasedAt, principal.orgId, dto.note ?? null],
      );
      if (!rows.length) throw conflict('duplicate-release-number', `Release number ${number} is used for another batch`);
      await announceCertificate(m, this.outbox, { domain: 'drug', batchId, number, kind: 'drug_batch_release', issuedAt: releasedAt, issuerOrgId: principal.orgId });
      return { batchId, number, releasedAt: releasedAt.toISOString(), releasedBy: principal.orgId, note: dto.note ?? null };
    });
  }

  async getRelease(batchId: string, principal: Principal) {
    await this.batches.get(batchId, principal);
    const [row] = await this.ds.query('SELECT * FROM batch_releases WHERE batch_id = $1', [batchId]);
    if (!row) throw notFound('release', `Batch ${batchId} has not been released`);
    return { batchId, number: row.number, releasedAt: (row.released_at as Date).toISOString(), releasedBy: row.regulator_org_id, note: row.note };
  }
}
