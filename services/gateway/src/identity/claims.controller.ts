import { Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { ITEM_KINDS, type GtinClaim, type ItemClaim, type ItemKind, type ItemRef } from '@trace/contracts';
import { badRequest, Internal, notFound, Public } from '@trace/platform';
import { IdentityClaimsService } from './claims.service';

const DOMAIN_NAMES = ['agri', 'food', 'drug', 'material', 'goods'];
const text = (v: unknown, max = 200): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;
const gtin14 = (v: unknown): v is string => typeof v === 'string' && /^\d{14}$/.test(v);

function gtinClaimOf(b: unknown): GtinClaim {
  const c = b as Partial<GtinClaim> | undefined;
  if (!gtin14(c?.gtin) || !text(c?.orgId) || !DOMAIN_NAMES.includes(c?.domain as string)) {
    throw badRequest('gtin-claim', 'gtin (GTIN-14), orgId and domain are required');
  }
  return { gtin: c.gtin, orgId: c.orgId, domain: c.domain as string };
}

function itemClaimOf(b: unknown): ItemClaim {
  const c = b as Partial<ItemClaim> | undefined;
  if (!gtin14(c?.gtin) || !ITEM_KINDS.includes(c?.kind as ItemKind) || !text(c?.value) || !DOMAIN_NAMES.includes(c?.domain as string) || !text(c?.orgId)) {
    throw badRequest('item-claim', 'every claim needs gtin (GTIN-14), kind (lot or serial), value, domain and orgId');
  }
  return { gtin: c.gtin, kind: c.kind as ItemKind, value: c.value, domain: c.domain as string, orgId: c.orgId };
}

/**
 * The identity claims for domain services in distributed mode
 * (IdentityClaimsClient in libs/trace-service); embedded, they call
 * IdentityClaimsService in-process and these routes do not exist. Only with a
 * service credential; not part of the public API.
 */
@ApiExcludeController()
@Internal()
@Public()
@Controller('internal/v1/identity')
export class InternalIdentityClaimsController {
  constructor(@Inject(IdentityClaimsService) private readonly claims: IdentityClaimsService) {}

  @Post('gtin-claims')
  @HttpCode(200)
  claimGtin(@Body() body: unknown) {
    return this.claims.claimGtin(gtinClaimOf(body));
  }

  @Post('item-claims')
  @HttpCode(200)
  async claimItems(@Body() body: { claims?: unknown }) {
    if (!Array.isArray(body?.claims) || body.claims.length > 10_000) throw badRequest('item-claim', 'claims must be an array of at most 10000');
    return { answers: await this.claims.claimItems(body.claims.map(itemClaimOf)) };
  }

  @Post('item-locations')
  @HttpCode(200)
  async locateMany(@Body() body: { items?: unknown }) {
    if (!Array.isArray(body?.items) || body.items.length > 20_000) throw badRequest('item', 'items must be an array of at most 20000');
    const items = body.items.map((b: unknown): ItemRef => {
      const i = b as Partial<ItemRef> | undefined;
      if (!gtin14(i?.gtin) || !ITEM_KINDS.includes(i?.kind as ItemKind) || !text(i?.value)) throw badRequest('item', 'every item needs gtin (GTIN-14), kind (lot or serial) and value');
      return { gtin: i.gtin, kind: i.kind as ItemKind, value: i.value };
    });
    return { locations: (await this.claims.locateMany(items)).map((l) => l ?? null) };
  }

  @Get('items/:gtin/:kind/:value')
  async locate(@Param('gtin') gtin: string, @Param('kind') kind: string, @Param('value') value: string) {
    if (!gtin14(gtin) || !ITEM_KINDS.includes(kind as ItemKind)) throw badRequest('item', 'a GTIN-14 and a kind (lot or serial)');
    const where = await this.claims.locate(gtin, kind as ItemKind, value);
    if (!where) throw notFound('item', `No ${kind} ${value} of GTIN ${gtin} is registered`);
    return where;
  }
}
