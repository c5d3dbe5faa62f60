import { Body, Controller, Get, Headers, HttpCode, Inject, Param, ParseUUIDPipe, Post, Query, Req, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBadRequestResponse, ApiBearerAuth, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { badRequest, CurrentPrincipal, Roles, type Principal } from '@trace/platform';
import { CaptureService, type ErrorBehaviour } from './capture.service';
import { QueryService } from './query.service';

const bearerOf = (authorization?: string) => authorization?.replace(/^Bearer\s+/i, '');

@ApiTags('epcis')
@ApiBearerAuth()
@Controller('v1/epcis/capture')
export class CaptureController {
  constructor(@Inject(CaptureService) private readonly capture: CaptureService) {}

  @Post()
  @HttpCode(202)
  @Roles('operator')
  @ApiOperation({
    summary: 'Capture an EPCIS 2.0 document (JSON / JSON-LD)',
    description:
      'Validated against the EPCIS 2.0 JSON Schema (400 with the schema errors), then stored in the background onto the trace chains of ' +
      'the domains owning the GTINs. The answer is the capture job (Location: /v1/epcis/capture/{id}). GS1-Capture-Error-Behaviour: ' +
      'rollback (default: nothing is stored if any event fails) or proceed (good events stored, bad ones listed in errors). ' +
      'The same event (EPCIS event hash) is stored once.',
  })
  @ApiHeader({ name: 'GS1-Capture-Error-Behaviour', required: false, enum: ['rollback', 'proceed'] })
  @ApiAcceptedResponse({ description: 'The capture job: { captureID, createdAt, running, success, captureErrorBehaviour, errors, progress }' })
  @ApiBadRequestResponse({ description: 'Not an EPCISDocument valid against the schema; errors lists where' })
  async submit(
    @Body() body: unknown,
    @Headers('gs1-capture-error-behaviour') behaviourHeader: string | undefined,
    @Headers('authorization') authorization: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) res: Response,
  ) {
    const behaviour = (behaviourHeader ?? 'rollback').trim().toLowerCase();
    if (behaviour !== 'rollback' && behaviour !== 'proceed') {
      throw badRequest('capture-error-behaviour', 'GS1-Capture-Error-Behaviour is rollback or proceed', [
        { field: 'GS1-Capture-Error-Behaviour', message: 'must be rollback or proceed' },
      ]);
    }
    const job = await this.capture.submit(body, behaviour as ErrorBehaviour, principal, bearerOf(authorization));
    res.setHeader('Location', `/v1/epcis/capture/${job.captureID}`);
    return job;
  }

  @Get()
  @ApiOkResponse({ description: 'The latest 100 capture jobs of the organisation (of all for inspectors and regulators), newest first' })
  jobs(@CurrentPrincipal() principal: Principal) {
    return this.capture.jobs(principal);
  }

  @Get(':id')
  @ApiOkResponse({ description: 'The capture job with its progress and errors' })
  job(@Param('id', new ParseUUIDPipe({ version: '4' })) id: string, @CurrentPrincipal() principal: Principal) {
    return this.capture.job(id, principal);
  }
}

@ApiTags('epcis')
@ApiBearerAuth()
@Controller('v1/epcis/events')
export class EventsController {
  constructor(@Inject(QueryService) private readonly queries: QueryService) {}

  @Get()
  @ApiOperation({
    summary: 'EPCIS events (SimpleEventQuery), over every trace chain',
    description:
      'Events recorded through the REST API and captured events alike, as an EPCISQueryDocument. Operators see the events of batches their ' +
      'organisation holds or held; inspectors and regulators see all. Pages: perPage (default 30, at most 1000) and the nextPageToken of the ' +
      'Link rel="next" header.',
  })
  @ApiOkResponse({ description: 'An EPCISQueryDocument' })
  @ApiBadRequestResponse({ description: 'Unknown parameter or malformed value' })
  async events(
    @Query() params: Record<string, string | string[]>,
    @Headers('authorization') authorization: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const q = this.queries.parse(params);
    const { document, nextPageToken } = await this.queries.query(q, principal, bearerOf(authorization));
    if (nextPageToken) {
      const next = new URLSearchParams();
      for (const [k, v] of Object.entries(params)) if (k !== 'nextPageToken') for (const x of Array.isArray(v) ? v : [v]) next.append(k, x);
      next.set('nextPageToken', nextPageToken);
      res.setHeader('Link', `<${req.baseUrl}${req.path}?${next.toString()}>; rel="next"`);
    }
    return document;
  }
}

