import { Body, Controller, Delete, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { ApiList, CurrentPrincipal, listExample, parseListQuery, Roles, type Principal } from '@trace/platform';
import { DELIVERY_EXAMPLE, WEBHOOK_CREATED_EXAMPLE, WEBHOOK_EXAMPLE } from '../openapi-examples';
import { CreateWebhookDto } from './dto';
import { DELIVERED_WEBHOOK_EVENTS, PLANNED_WEBHOOK_EVENTS, WEBHOOK_DELIVERY_STATUSES } from './events';
import { WebhookService } from './webhook.service';

const uuid = () => new ParseUUIDPipe({ version: '4' });

@ApiTags('webhooks')
@ApiBearerAuth()
@Controller('v1/webhooks')
export class WebhookController {
  constructor(@Inject(WebhookService) private readonly webhooks: WebhookService) {}

  @Post()
  @HttpCode(201)
  @Roles('operator', 'regulator')
  @ApiOperation({
    summary: "Subscribe the caller's organisation to events (operators and regulators)",
    description:
      'Each delivery is POST url with { id, type, occurredAt, data }, headers X-Trace-Delivery: <id> and ' +
      'X-Trace-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the secret>. A non-2xx answer or none (timeout WEBHOOK_TIMEOUT_MS) ' +
      'is retried with exponential back-off for at least 24 hours; the id stays the same across retries, one event is delivered once per subscription. ' +
      'An operator hears what concerns its organisation (recall.started / recall.closed: a recall in whose scope it holds or had in transit something; ' +
      'shipment.incoming: a shipment to it, { shipmentId, domain, batchId, gtin, lot, quantity, unit, inTransit, fromOrgId, shippedAt, … }; ' +
      'inspection.failed: a failed sample of a batch it holds part of; batch.held: a batch it holds part of was put on hold (a failed sample); ' +
      'incident.overdue: an incident report it owes is late); ' +
      `a regulator hears every event. Delivered today: ${DELIVERED_WEBHOOK_EVENTS.join(', ')}. ` +
      `Planned, nothing is sent yet: ${PLANNED_WEBHOOK_EVENTS.join(', ')} (the risk warnings of the supervision section); a subscription to it is accepted so it need not change when they arrive. ` +
      'The secret is shown in this answer only.',
  })
  @ApiCreatedResponse({
    description: 'The subscription with its signing secret (shown once)',
    schema: {
      type: 'object',
      properties: {
        id: { type: 'string', format: 'uuid' },
        url: { type: 'string' },
        events: { type: 'array', items: { type: 'string' } },
        secret: { type: 'string', example: 'whsec_3q2-7w…' },
        createdAt: { type: 'string', format: 'date-time' },
      },
    },
    example: WEBHOOK_CREATED_EXAMPLE,
  })
  @ApiBadRequestResponse({ description: 'validation-failed (url, events), or webhook-url-refused (a private, loopback, link-local or unresolvable host)' })
  @ApiForbiddenResponse({ description: 'Not an operator or regulator' })
  @ApiUnprocessableEntityResponse({ description: 'too-many-webhooks: the organisation has 25 subscriptions already' })
  create(@Body() dto: CreateWebhookDto, @CurrentPrincipal() principal: Principal) {
    return this.webhooks.create(dto, principal);
  }

  @Get()
  @Roles('operator', 'regulator')
  @ApiOperation({ summary: "The caller's organisation's subscriptions, newest first (without their secrets)" })
  @ApiList({ description: '{ items: [{ id, url, events, createdAt }], nextCursor }', example: listExample(WEBHOOK_EXAMPLE) })
  list(@Query() query: Record<string, unknown>, @CurrentPrincipal() principal: Principal, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const q = parseListQuery(query, [] as const, { cursor: ['micros', 'uuid'] });
    return this.webhooks.list(q, principal, { req, res });
  }

  @Delete(':id')
  @HttpCode(204)
  @Roles('operator', 'regulator')
  @ApiOperation({ summary: 'Unsubscribe; deliveries still waiting for a retry are cancelled' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ description: "No such subscription of the caller's organisation" })
  async remove(@Param('id', uuid()) id: string, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.webhooks.remove(id, principal);
  }

  @Get(':id/deliveries')
  @Roles('operator', 'regulator')
  @ApiOperation({
    summary: "A subscription's delivery log, newest first",
    description:
      'Each delivery with its status (pending: waiting for its next try at nextAttemptAt; delivered; failed: no 2xx for 24 hours; cancelled: ' +
      'the subscription was deleted), every attempt ({ at, statusCode, error, durationMs }) and the data sent.',
  })
  @ApiList({
    description:
      '{ items: [{ id, type, occurredAt, status, attempts: [{ at, statusCode, error, durationMs }], attemptCount, lastStatusCode, lastError, ' +
      'nextAttemptAt, deliveredAt, createdAt, data }], nextCursor }',
    filters: [{ name: 'status', description: 'pending, delivered, failed or cancelled', enum: WEBHOOK_DELIVERY_STATUSES }],
    example: listExample(DELIVERY_EXAMPLE),
  })
  @ApiNotFoundResponse({ description: "No such subscription of the caller's organisation" })
  deliveries(
    @Param('id', uuid()) id: string,
    @Query() query: Record<string, unknown>,
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const q = parseListQuery(query, ['status'] as const, { cursor: ['micros', 'uuid'], enums: { status: WEBHOOK_DELIVERY_STATUSES } });
    return this.webhooks.deliveries(id, q, principal, { req, res });
  }
}
