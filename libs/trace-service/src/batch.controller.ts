import { Body, Controller, Get, Headers, HttpCode, Inject, Param, ParseUUIDPipe, Post, Query, type Type } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiExcludeController, ApiForbiddenResponse, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Type as TransformType } from 'class-transformer';
import { IsNotEmpty, IsNumber, IsOptional, IsPositive, IsString, IsUUID, MaxLength, ValidateNested } from 'class-validator';
import { ApiJsonResponse, badRequest, CurrentPrincipal, Internal, IsOffsetTime, Public, Roles, ServiceMayActFor, type Principal } from '@trace/platform';
import { BatchService } from './batch.service';
import { epcisDocument } from '@trace/epcis';
import { EpcisChainService, type ApplyRequest, type DomainQuery, type ResolveRequest } from './epcis-ledger';
import type { DomainName } from './domains';
import { RecordEventDto, RegisterBatchDto, RegisterProductDto } from './dto';
import { BatchDoc } from './holdings/holdings.openapi';
import { BATCH_EXAMPLE, BATCH_VIEW_EXAMPLE, EPCIS_DOCUMENT_EXAMPLE, EVENT_RECORDED_EXAMPLE, EVENTS_EXAMPLE, PRODUCT_EXAMPLE, VERIFY_EXAMPLE } from './openapi-examples';

const uuid = () => new ParseUUIDPipe({ version: '4' });
const bearerOf = (authorization?: string) => authorization?.replace(/^Bearer\s+/i, '');
const title = (d: string) => `${d[0].toUpperCase()}${d.slice(1)}`;

class OutputRefDto {
  @IsString()
  @IsNotEmpty()
  domain: string;

  @IsUUID('4')
  batchId: string;
}

/** Body of the service-to-service input ledger calls: a ConsumeRequest. */
class LedgerCallDto {
  @IsUUID('4')
  batchId: string;

  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsPositive()
  quantity: number;

  @IsString()
  @IsNotEmpty()
  @MaxLength(16)
  unit: string;

  @ValidateNested()
  @TransformType(() => OutputRefDto)
  outputRef: OutputRefDto;

  @IsOptional()
  @IsOffsetTime()
  eventTime?: string;
}

class RestoreCallDto extends LedgerCallDto {
  @IsUUID()
  correctionOf: string;

  @IsString()
  @IsNotEmpty()
  reason: string;
}

/**
 * Controllers are made per domain by these factories: in embedded mode the
 * five domains share one HTTP server, so each needs its own route prefix and
 * its own BatchService instance rather than a `:domain` parameter.
 */
export function createDomainControllers(domain: DomainName): Type<unknown>[] {
  @ApiTags(domain)
  @ApiBearerAuth()
  @Controller(`v1/${domain}/products`)
  class ProductController {
    constructor(@Inject(BatchService) private readonly batches: BatchService) {}

    @Post()
    @HttpCode(201)
    @Roles('operator')
    @ApiJsonResponse(201, 'The product; its GTIN is stored as GTIN-14', PRODUCT_EXAMPLE)
    @ApiConflictResponse({
      description:
        'gtin-taken: another organisation registered this GTIN, in this or any other domain (a GTIN has one owner everywhere); ' +
        'duplicate-gtin: your organisation already registered it in this domain',
    })
    register(@Body() dto: RegisterProductDto, @CurrentPrincipal() principal: Principal) {
      return this.batches.registerProduct(dto, principal);
    }

    @Get(':id')
    @ApiJsonResponse(200, 'The product', PRODUCT_EXAMPLE)
    get(@Param('id', uuid()) id: string) {
      return this.batches.getProduct(id);
    }
  }

  @ApiTags(domain)
  @ApiBearerAuth()
  @Controller(`v1/${domain}/batches`)
  class BatchController {
    constructor(
      @Inject(BatchService) private readonly batches: BatchService,
      @Inject(EpcisChainService) private readonly epcis: EpcisChainService,
    ) {}

    @Post()
    @HttpCode(201)
    @Roles('operator')
    @ApiJsonResponse(201, 'The batch, with its digital link and chain head. With inputs: a transformation.', BATCH_EXAMPLE)
    @ApiConflictResponse({
      description:
        'duplicate-lot: this GTIN + lot is already a batch, in this or any other domain (a lot is one batch everywhere); ' +
        'a serialised item with the same text as its serial is another identity and does not collide',
    })
    register(
      @Body() dto: RegisterBatchDto,
      @CurrentPrincipal() principal: Principal,
      @Headers('authorization') authorization?: string,
    ) {
      return this.batches.register(dto, principal, bearerOf(authorization));
    }

    @Get(':id')
    @ApiOkResponse({
      description:
        'The batch with status, chain head, its quantity as produced, what remains of it, and its holdings: who holds how much ' +
        '(received) and what is in transit to whom. The owner, inspectors and regulators see every holding; another operator its own.',
      type: BatchDoc,
      example: BATCH_VIEW_EXAMPLE,
    })
    get(@Param('id', uuid()) id: string, @CurrentPrincipal() principal: Principal) {
      return this.batches.get(id, principal);
    }

    @Post(':id/events')
    @HttpCode(201)
    @Roles('operator')
    @ApiJsonResponse(
      201,
      '{ id, seq, hash, prevHash }. The caller must hold some of the batch. shipping { toOrgId, quantity? } sends part of its ' +
        'holding (all of it without quantity) into transit to the receiver; receiving { quantity? } takes what is in transit to the ' +
        'caller (less records a shortage); destroying, dispensing and retail_selling take from its holding. A recalled batch moves only ' +
        'back up the chain (shipping with disposition "returned" to an organisation it came from) or into destruction.',
      EVENT_RECORDED_EXAMPLE,
    )
    @ApiConflictResponse({
      description:
        'insufficient-quantity (more than the caller holds or has in transit), batch-held / batch-recalled / batch-destroyed, ' +
        'not-in-transit (nothing to receive)',
    })
    @ApiForbiddenResponse({ description: 'not-the-holder (the caller holds none of it), not-the-receiver' })
    record(@Param('id', uuid()) id: string, @Body() dto: RecordEventDto, @CurrentPrincipal() principal: Principal) {
      return this.batches.recordEvent(id, dto, principal);
    }

    @Get(':id/events')
    @ApiJsonResponse(200, 'The chain in order, each event with seq, hash and prevHash', EVENTS_EXAMPLE)
    events(@Param('id', uuid()) id: string, @CurrentPrincipal() principal: Principal) {
      return this.batches.events(id, principal);
    }

    @Get(':id/epcis')
    @ApiQuery({
      name: 'include',
      required: false,
      enum: ['chain'],
      description:
        'chain: every event also carries its chain link (trace:chain, with this system\'s organisation, batch and event ids), so that capturing the ' +
        'export into another system reproduces the same hashes (the round trip). Without it the export is for trading partners: no internal ids ' +
        '(REST-recorded events are named by their CBV event hash)',
    })
    @ApiJsonResponse(
      200,
      'The chain as an EPCIS 2.0 EPCISDocument, each event with the namespaces it was captured with declared in @context; with include=chain every ' +
        'event carries its chain link (trace:chain)',
      EPCIS_DOCUMENT_EXAMPLE,
    )
    async epcisExport(@Param('id', uuid()) id: string, @CurrentPrincipal() principal: Principal, @Query('include') include?: string | string[]) {
      if (include !== undefined && include !== 'chain') {
        throw badRequest('validation', 'include takes one value: chain', [{ field: 'include', message: 'must be chain' }]);
      }
      const batch = await this.epcis.visibleBatch(id, principal);
      return epcisDocument(await this.epcis.export(batch, { chain: include === 'chain' }));
    }

    @Get(':id/verify')
    @ApiJsonResponse(
      200,
      '{ valid, length, head, brokenAt?: { seq, reason } }: every hash recomputed under its link\'s version (v2: the content and the ' +
        'step, disposition, time and organisation shown beside it; v1: links written before versions, content only). reason ∈ ' +
        'hash_mismatch, prev_hash_mismatch, sequence_gap, version_downgrade, missing_links, batch_mismatch (the batch\'s status, production ' +
        'time or expiry disagrees with its chain; `field` names which), epcis_context_mismatch (a captured event\'s stored namespaces no ' +
        'longer give the CBV event hash its link records)',
      VERIFY_EXAMPLE,
    )
    verify(@Param('id', uuid()) id: string, @CurrentPrincipal() principal: Principal) {
      return this.batches.verify(id, principal);
    }
  }

  /**
   * Other domain services take transformation inputs through here (distributed
   * mode only: a service credential, and the end user's token for whom it
   * acts). The ledger re-checks custody, status and quantity itself; restore
   * is only the compensation of the consume it names.
   */
  @ApiExcludeController()
  @Internal()
  @Controller(`internal/v1/${domain}/batches`)
  class InputLedgerController {
    constructor(@Inject(BatchService) private readonly batches: BatchService) {}

    @Post(':id/consume')
    @HttpCode(200)
    @Roles('operator')
    consume(@Param('id', uuid()) id: string, @Body() dto: LedgerCallDto, @CurrentPrincipal() principal: Principal) {
      return this.batches.consume({ batchId: id, quantity: dto.quantity, unit: dto.unit, outputRef: dto.outputRef }, principal);
    }

    @Post(':id/restore')
    @HttpCode(200)
    @Roles('operator')
    async restore(@Param('id', uuid()) id: string, @Body() dto: RestoreCallDto, @CurrentPrincipal() principal: Principal) {
      await this.batches.restore(
        { batchId: id, quantity: dto.quantity, unit: dto.unit, outputRef: dto.outputRef, correctionOf: dto.correctionOf, reason: dto.reason },
        principal,
      );
      return { restored: true };
    }
  }

  /** What the gateway's Digital Link resolver builds the scan from (distributed mode only, with a service credential); it strips ids and attributes. */
  @ApiExcludeController()
  @Internal()
  @Controller(`internal/v1/${domain}/public`)
  class PublicViewController {
    constructor(@Inject(BatchService) private readonly batches: BatchService) {}

    @Get(':gtin/:lot')
    @Public()
    view(@Param('gtin') gtin: string, @Param('lot') lot: string, @Query('kind') kind?: string) {
      return this.batches.publicView(gtin, lot, kind === 'serial' ? 'serial' : 'lot');
    }
  }

  /** The EPCIS service stores captured events and answers queries through here (distributed mode only: a service credential and the user's token). */
  @ApiExcludeController()
  @Internal()
  @Controller(`internal/v1/${domain}/epcis`)
  class EpcisLedgerController {
    constructor(@Inject(EpcisChainService) private readonly epcis: EpcisChainService) {}

    @Post('resolve')
    @HttpCode(200)
    @Roles('operator')
    resolve(@Body() body: ResolveRequest) {
      if (!Array.isArray(body?.gtins) || !Array.isArray(body?.objects)) throw badRequest('epcis-resolve', 'gtins and objects must be arrays');
      return this.epcis.resolve({ gtins: body.gtins, objects: body.objects });
    }

    @Post('apply')
    @HttpCode(200)
    @Roles('operator')
    apply(@Body() body: ApplyRequest, @CurrentPrincipal() principal: Principal) {
      // Service-to-service: the epcis service planned these events; only the envelope is checked here.
      if (!Array.isArray(body?.events) || typeof body.captureId !== 'string' || Number.isNaN(Date.parse(body.recordTime))) {
        throw badRequest('epcis-apply', 'events, captureId and recordTime are required');
      }
      return this.epcis.apply(body, principal);
    }

    @Post('query')
    @HttpCode(200)
    // The epcis service runs a subscription's query for the organisation that made it, with no user's token.
    @ServiceMayActFor()
    query(@Body() body: DomainQuery, @CurrentPrincipal() principal: Principal) {
      if (!Number.isInteger(body?.limit) || body.limit < 1 || body.limit > 1001) throw badRequest('epcis-query', 'limit must be an integer from 1 to 1001');
      return this.epcis.query(body, principal);
    }
  }

  for (const [cls, kind] of [
    [ProductController, 'Product'],
    [BatchController, 'Batch'],
    [InputLedgerController, 'InputLedger'],
    [PublicViewController, 'PublicView'],
    [EpcisLedgerController, 'EpcisLedger'],
  ] as const) {
    Object.defineProperty(cls, 'name', { value: `${title(domain)}${kind}Controller` });
  }
  return [ProductController, BatchController, InputLedgerController, PublicViewController, EpcisLedgerController];
}
