import { Body, Controller, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { ApiJsonResponse, CurrentPrincipal, Public, RateLimitedLookup, Roles, type Principal } from '@trace/platform';
import { CODES_EXAMPLE, DISPENSED_EXAMPLE, RELEASE_EXAMPLE, VERIFY_CODE_EXAMPLE } from './openapi-examples';
import { CodeDto, DispenseDto, RegisterCodesDto, ReleaseDto } from './drug.dto';
import { DrugService } from './drug.service';

const uuid = () => new ParseUUIDPipe({ version: '4' });

@ApiTags('drug')
@ApiBearerAuth()
@Controller('v1/drug/batches')
export class DrugBatchExtrasController {
  constructor(@Inject(DrugService) private readonly drugs: DrugService) {}

  @Post(':id/codes')
  @HttpCode(201)
  @Roles('operator')
  @ApiJsonResponse(201, '{ batchId, registered, codes }', CODES_EXAMPLE)
  codes(@Param('id', uuid()) id: string, @Body() dto: RegisterCodesDto, @CurrentPrincipal() principal: Principal) {
    return this.drugs.registerCodes(id, dto, principal);
  }

  @Post(':id/release')
  @HttpCode(201)
  @Roles('regulator')
  @ApiJsonResponse(201, 'Batch release (批签发): { batchId, number, releasedAt, releasedBy, note }', RELEASE_EXAMPLE)
  release(@Param('id', uuid()) id: string, @Body() dto: ReleaseDto, @CurrentPrincipal() principal: Principal) {
    return this.drugs.release(id, dto, principal);
  }

  @Get(':id/release')
  @ApiJsonResponse(200, 'The batch release, 404 when none', RELEASE_EXAMPLE)
  getRelease(@Param('id', uuid()) id: string, @CurrentPrincipal() principal: Principal) {
    return this.drugs.getRelease(id, principal);
  }
}

@ApiTags('drug')
@Controller('v1/drug')
export class DrugCodeController {
  constructor(@Inject(DrugService) private readonly drugs: DrugService) {}

  /** Public, like the consumer scan: whoever holds a pack may check it. */
  @Post('verify')
  @HttpCode(200)
  @Public()
  @RateLimitedLookup()
  @ApiTooManyRequestsResponse({ description: 'Too many look-ups from this address (LOOKUP_RATE_LIMIT a minute); Retry-After says when to try again' })
  @ApiJsonResponse(200, '{ status: VERIFIED|UNKNOWN|RECALLED|DISPENSED|EXPIRED, code, batch }', VERIFY_CODE_EXAMPLE)
  verify(@Body() dto: CodeDto) {
    return this.drugs.verify(dto.code);
  }

  @Post('dispense')
  @HttpCode(201)
  @Roles('operator')
  @ApiBearerAuth()
  @ApiJsonResponse(201, 'The code, dispensed; 409 when dispensed before or its batch is recalled or held', DISPENSED_EXAMPLE)
  dispense(@Body() dto: DispenseDto, @CurrentPrincipal() principal: Principal) {
    return this.drugs.dispense(dto, principal);
  }
}
