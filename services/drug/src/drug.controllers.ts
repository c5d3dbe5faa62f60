import { Body, Controller, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { CurrentPrincipal, Public, RateLimitedLookup, Roles, type Principal } from '@trace/platform';
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
  @ApiCreatedResponse({ description: '{ batchId, registered, codes }' })
  codes(@Param('id', uuid()) id: string, @Body() dto: RegisterCodesDto, @CurrentPrincipal() principal: Principal) {
    return this.drugs.registerCodes(id, dto, principal);
  }

  @Post(':id/release')
  @HttpCode(201)
  @Roles('regulator')
  @ApiCreatedResponse({ description: 'Batch release (批签发): { batchId, number, releasedAt, releasedBy }' })
  release(@Param('id', uuid()) id: string, @Body() dto: ReleaseDto, @CurrentPrincipal() principal: Principal) {
    return this.drugs.release(id, dto, principal);
  }

  @Get(':id/release')
  @ApiOkResponse({ description: 'The batch release, 404 when none' })
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
  @ApiOkResponse({ description: '{ status: VERIFIED|UNKNOWN|RECALLED|DISPENSED|EXPIRED, batch }' })
  verify(@Body() dto: CodeDto) {
    return this.drugs.verify(dto.code);
  }

  @Post('dispense')
  @HttpCode(201)
  @Roles('operator')
  @ApiBearerAuth()
  @ApiCreatedResponse({ description: 'The code, dispensed; 409 when dispensed before or its batch is recalled or held' })
  dispense(@Body() dto: DispenseDto, @CurrentPrincipal() principal: Principal) {
    return this.drugs.dispense(dto, principal);
  }
}
