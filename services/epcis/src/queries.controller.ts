import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Options, Param, Post, Query, Req, Res, UseInterceptors } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiBody, ApiConflictResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiJsonResponse, CurrentPrincipal, schemaOfExample, type Principal } from '@trace/platform';
import { ApiEpcisHeaders, discover, EpcisHeadersInterceptor, openPageToken, pageLink, requireJson } from './epcis-http';
import { NamedQueryService } from './named-query.service';
import { NAMED_QUERY_EXAMPLE, QUERY_DOCUMENT_EXAMPLE } from './openapi-examples';

const bearerOf = (authorization?: string) => authorization?.replace(/^Bearer\s+/i, '');
const location = (name: string) => `/v1/epcis/queries/${encodeURIComponent(name)}`;

/** The REST binding's named queries (`/queries`), per organisation. */
@ApiTags('epcis')
@ApiBearerAuth()
@UseInterceptors(EpcisHeadersInterceptor)
@ApiEpcisHeaders()
@Controller('v1/epcis/queries')
export class QueriesController {
  constructor(@Inject(NamedQueryService) private readonly named: NamedQueryService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Create a named query: { name, query } (query: SimpleEventQuery parameters as JSON, as GET /v1/epcis/events takes them)',
    description:
      'The name is the caller organisation\'s own (1-100 of A-Z a-z 0-9 . _ ~ -). Arrays for the list parameters (EQ_bizStep: ["shipping"]), ' +
      'strings or numbers for the others, null for EXISTS_ ones; perPage and nextPageToken are given when it is run. Checked as a query ' +
      'would be (400 naming each bad member, epcisException: QueryValidationException). Location: /v1/epcis/queries/{name}.',
  })
  @ApiBody({ schema: schemaOfExample(NAMED_QUERY_EXAMPLE) as never, examples: { shipped: { summary: 'Shipping events of one lot since December', value: NAMED_QUERY_EXAMPLE } } })
  @ApiJsonResponse(201, 'The stored definition { name, query }', NAMED_QUERY_EXAMPLE)
  @ApiBadRequestResponse({ description: 'Not a valid definition; errors[] names the members (JSON pointers)' })
  @ApiConflictResponse({ description: 'The organisation has a query of that name already (epcis-query-exists)' })
  async create(@Body() body: unknown, @CurrentPrincipal() principal: Principal, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    requireJson(req);
    const created = await this.named.create(body, principal);
    res.setHeader('Location', location(created.name));
    return created;
  }

  @Get()
  @ApiOperation({ summary: 'The organisation\'s named queries, by name, paged (perPage, nextPageToken, Link rel="next")' })
  @ApiJsonResponse(200, 'An array of { name, query }', [NAMED_QUERY_EXAMPLE])
  async list(@Query() params: Record<string, string>, @CurrentPrincipal() principal: Principal, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const { member, nextPageToken } = await this.named.list(openPageToken(params), principal);
    pageLink(req, res, params, nextPageToken);
    return member;
  }

  @Options()
  @HttpCode(204)
  @ApiOperation({ summary: 'Discovery of the named queries resource' })
  options(@Res({ passthrough: true }) res: Response) {
    discover(res, ['GET', 'POST']);
  }

  @Options(':name')
  @HttpCode(204)
  @ApiOperation({ summary: 'Discovery of a named query' })
  oneOptions(@Res({ passthrough: true }) res: Response) {
    discover(res, ['GET', 'DELETE']);
  }

  @Options(':name/events')
  @HttpCode(204)
  @ApiOperation({ summary: 'Discovery of a named query\'s events' })
  eventsOptions(@Res({ passthrough: true }) res: Response) {
    discover(res, ['GET']);
  }

  @Get(':name')
  @ApiOperation({ summary: 'One named query\'s definition' })
  @ApiJsonResponse(200, '{ name, query }', NAMED_QUERY_EXAMPLE)
  @ApiNotFoundResponse({ description: 'The organisation has no query of that name' })
  one(@Param('name') name: string, @CurrentPrincipal() principal: Principal) {
    return this.named.get(name, principal);
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a named query' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ description: 'The organisation has no query of that name' })
  async remove(@Param('name') name: string, @CurrentPrincipal() principal: Principal) {
    await this.named.remove(name, principal);
  }

  @Get(':name/events')
  @ApiOperation({
    summary: 'Run a named query: its events as GET /v1/epcis/events with the same parameters would answer them',
    description:
      'Only perPage and nextPageToken (from the Link rel="next" header) are given with it; anything else is a 400. ' +
      'With Upgrade: websocket (and Connection: Upgrade, Sec-WebSocket-Version: 13) it is the binding\'s WebSocket subscription instead: ' +
      '?stream=true, or a schedule as second, minute, hour, dayOfMonth, month, dayOfWeek (with reportIfEmpty), and initialRecordTime; ' +
      '101 Switching Protocols, then each look\'s matching events as an EPCISQueryDocument text message while the socket is open. ' +
      'The token is the Authorization header or, for browsers, the access_token query parameter. Refusals (401, 404, 400 ' +
      'epcisException:SubscriptionControlsException) come before the upgrade.',
  })
  @ApiJsonResponse(200, 'An EPCISQueryDocument', QUERY_DOCUMENT_EXAMPLE)
  @ApiNotFoundResponse({ description: 'The organisation has no query of that name' })
  async events(
    @Param('name') name: string,
    @Query() params: Record<string, string>,
    @Headers('authorization') authorization: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { document, nextPageToken } = await this.named.events(name, openPageToken(params), principal, bearerOf(authorization));
    pageLink(req, res, params, nextPageToken);
    return document;
  }
}
