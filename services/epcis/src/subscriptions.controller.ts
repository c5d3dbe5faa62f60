import { Body, Controller, Delete, Get, HttpCode, Inject, Options, Param, Post, Req, Res, UseInterceptors } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiBody, ApiNoContentResponse, ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiJsonResponse, CurrentPrincipal, schemaOfExample, type Principal } from '@trace/platform';
import { ApiEpcisHeaders, discover, EpcisHeadersInterceptor, requireJson } from './epcis-http';
import { SCHEDULED_SUBSCRIPTION_EXAMPLE, SCHEDULED_SUBSCRIPTION_REQUEST_EXAMPLE, SUBSCRIPTION_EXAMPLE, SUBSCRIPTION_REQUEST_EXAMPLE } from './openapi-examples';
import { SubscriptionService } from './subscription.service';

const location = (name: string, id: string) => `/v1/epcis/queries/${encodeURIComponent(name)}/subscriptions/${id}`;

/** The REST binding's query subscriptions (`/queries/{name}/subscriptions`): stream mode, per organisation. */
@ApiTags('epcis')
@ApiBearerAuth()
@UseInterceptors(EpcisHeadersInterceptor)
@ApiEpcisHeaders()
@Controller('v1/epcis/queries/:name/subscriptions')
export class SubscriptionsController {
  constructor(@Inject(SubscriptionService) private readonly subscriptions: SubscriptionService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Subscribe to a named query: { dest, signatureToken, stream: true } or { dest, signatureToken, schedule, reportIfEmpty } (matching events are POSTed to dest)',
    description:
      'dest: an http(s) URL (refused, 400 webhook-url-refused, when it resolves to a loopback, private or link-local address unless the deployment sets ' +
      'WEBHOOK_ALLOW_PRIVATE=true). Matching events recorded after initialRecordTime (default: now) are POSTed as an EPCISQueryDocument ' +
      '(queryName, subscriptionID), with GS1-Signature: sha256=<hex HMAC-SHA256 of the body keyed with signatureToken> when one was given; ' +
      'retried with back-off on no 2xx (WEBHOOK_RETRY_* settings). Only events the organisation may see are sent. stream: true sends each new ' +
      'matching event soon after it is recorded; a schedule (UTC; each of second, minute, hour, dayOfMonth, month, dayOfWeek a number, a ' +
      '[low-high] range or a comma list; fields finer than the finest given stand at their first value, coarser ones match all, so ' +
      '{ hour: "1", minute: "5" } runs daily at 01:05:00) sends, at each run, the matching events recorded since the previous run, an empty ' +
      'document only with reportIfEmpty: true. The next run is stored (nextRunAt): a run missed while the service was down is done once when it ' +
      'is back. stream and schedule are mutually exclusive; a malformed schedule is a 400 (epcisException:SubscriptionControlsException). ' +
      'The signatureToken is never answered back.',
  })
  @ApiBody({
    schema: schemaOfExample(SUBSCRIPTION_REQUEST_EXAMPLE) as never,
    examples: {
      stream: { summary: 'Every new matching event', value: SUBSCRIPTION_REQUEST_EXAMPLE },
      scheduled: { summary: 'Every morning at 01:05 UTC, even when nothing matched', value: SCHEDULED_SUBSCRIPTION_REQUEST_EXAMPLE },
    },
  })
  @ApiJsonResponse(201, 'The subscription (Location: /v1/epcis/queries/{name}/subscriptions/{subscriptionID})', SUBSCRIPTION_EXAMPLE)
  @ApiBadRequestResponse({ description: 'Not a valid subscription or schedule (epcis-subscription, epcisException:SubscriptionControlsException, errors[] names the members) or dest refused (webhook-url-refused)' })
  @ApiNotFoundResponse({ description: 'The organisation has no query of that name' })
  async create(@Param('name') name: string, @Body() body: unknown, @CurrentPrincipal() principal: Principal, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    requireJson(req);
    const created = await this.subscriptions.create(name, body, principal);
    res.setHeader('Location', location(name, created.subscriptionID));
    return created;
  }

  @Get()
  @ApiOperation({ summary: 'The organisation\'s subscriptions to a named query' })
  @ApiJsonResponse(200, 'An array of subscriptions', [SUBSCRIPTION_EXAMPLE, SCHEDULED_SUBSCRIPTION_EXAMPLE])
  @ApiNotFoundResponse({ description: 'The organisation has no query of that name' })
  list(@Param('name') name: string, @CurrentPrincipal() principal: Principal) {
    return this.subscriptions.list(name, principal);
  }

  @Options()
  @HttpCode(204)
  @ApiOperation({ summary: 'Discovery of a named query\'s subscriptions' })
  options(@Res({ passthrough: true }) res: Response) {
    discover(res, ['GET', 'POST']);
  }

  @Options(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Discovery of a query subscription (GS1-Query-Min-Record-Time: the smallest record time of an event it has still to send)' })
  @ApiNoContentResponse({ description: 'Allow, versions, and GS1-Query-Min-Record-Time', headers: { 'GS1-Query-Min-Record-Time': { description: 'initialRecordTime, then where the last look read up to', schema: { type: 'string', format: 'date-time' } } } })
  @ApiNotFoundResponse({ description: 'The organisation has no such subscription (epcis-subscription-id)' })
  async oneOptions(@Param('name') name: string, @Param('id') id: string, @CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) res: Response) {
    const subscription = await this.subscriptions.get(name, id, principal);
    discover(res, ['GET', 'DELETE']);
    res.setHeader('GS1-Query-Min-Record-Time', subscription.minRecordTime);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One subscription to a named query' })
  @ApiJsonResponse(200, 'The subscription (without its signatureToken)', SUBSCRIPTION_EXAMPLE)
  @ApiNotFoundResponse({ description: 'The organisation has no such subscription (epcis-subscription-id)' })
  one(@Param('name') name: string, @Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    return this.subscriptions.get(name, id, principal);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Unsubscribe: nothing more is sent (deliveries not yet sent are dropped)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ description: 'The organisation has no such subscription (epcis-subscription-id)' })
  async remove(@Param('name') name: string, @Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    await this.subscriptions.remove(name, id, principal);
  }
}
