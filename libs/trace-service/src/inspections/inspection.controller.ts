import { Body, Controller, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post, type Type } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { ApiJsonResponse, CurrentPrincipal, Roles, type Principal } from '@trace/platform';
import { INSPECTION_EXAMPLE, INSPECTION_RECORDED_EXAMPLE } from '../openapi-examples';
import type { DomainName } from '../domains';
import { InspectionRecordedDto, RecordInspectionDto } from './dto';
import { InspectionService } from './inspection.service';

const uuid = () => new ParseUUIDPipe({ version: '4' });

/** The inspection endpoints of one domain (a class per domain: embedded mode hosts all five on one server). */
export function createInspectionController(domain: DomainName): Type<unknown> {
  @ApiTags(domain)
  @ApiBearerAuth()
  @Controller(`v1/${domain}/batches`)
  class InspectionController {
    constructor(@Inject(InspectionService) private readonly inspections: InspectionService) {}

    @Post(':id/inspections')
    @HttpCode(201)
    @Roles('inspector')
    @ApiOperation({
      summary: 'Record a supervision-sampling result (inspector)',
      description:
        'Appends an `inspecting` event (conformant / non_conformant) to the batch chain. A fail puts the batch on `held` ' +
        'and opens a case for the regulator; a passing re-test (`retestOf`) within the re-test window (default 15 days ' +
        'after the failed sampling) clears the hold.',
    })
    @ApiCreatedResponse({ type: InspectionRecordedDto, example: INSPECTION_RECORDED_EXAMPLE })
    @ApiForbiddenResponse({ description: 'Not an inspector' })
    @ApiNotFoundResponse({ description: 'No such batch' })
    @ApiConflictResponse({ description: 'duplicate-report-no, retest-window-closed, retest-already-cleared, batch-destroyed…' })
    @ApiUnprocessableEntityResponse({ description: 'inspection-conclusion (contradicts the items), retest-of (not a failed inspection of this batch)' })
    record(@Param('id', uuid()) id: string, @Body() dto: RecordInspectionDto, @CurrentPrincipal() principal: Principal) {
      return this.inspections.record(id, dto, principal);
    }

    @Get(':id/inspections')
    @Roles('inspector', 'regulator', 'operator')
    @ApiOperation({ summary: 'The inspections of a batch (inspectors, regulators, operators who can see the batch)' })
    @ApiJsonResponse(200, 'Oldest first: reportNo, agency, sampledAt, items, conclusion, retestOf, retestDeadline, cleared', [INSPECTION_EXAMPLE])
    list(@Param('id', uuid()) id: string, @CurrentPrincipal() principal: Principal) {
      return this.inspections.list(id, principal);
    }
  }
  Object.defineProperty(InspectionController, 'name', { value: `${domain[0].toUpperCase()}${domain.slice(1)}InspectionController` });
  return InspectionController;
}
