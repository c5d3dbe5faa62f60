import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Inject,
  Options,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Req,
  Res,
  UseInterceptors,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { EPCIS_CONTEXT, type EpcisDocument } from '@trace/epcis';
import { ApiJsonResponse, badRequest, CurrentPrincipal, DomainError, notFound, Roles, schemaOfExample, type Principal } from '@trace/platform';
import { CaptureService, MAX_EVENTS, type ErrorBehaviour } from './capture.service';
import { ApiEpcisHeaders, captureBody, discover, EpcisHeadersInterceptor, openPageToken, pageLink, requireJson, XML_TYPES } from './epcis-http';
import {
  CAPTURE_JOB_DONE_EXAMPLE,
  CAPTURE_JOB_EXAMPLE,
  CAPTURE_REQUEST_EXAMPLE,
  EVENT_REQUEST_EXAMPLE,
  QUERY_DOCUMENT_EXAMPLE,
  ROOT_EXAMPLE,
  STORED_EVENT_EXAMPLE,
  VALUE_EXAMPLE,
  VALUES_EXAMPLE,
} from './openapi-examples';
import { QueryService } from './query.service';
import { XsdValidation } from './xsd-validation';

const bearerOf = (authorization?: string) => authorization?.replace(/^Bearer\s+/i, '');

@ApiTags('epcis')
@ApiBearerAuth()
@UseInterceptors(EpcisHeadersInterceptor)
@ApiEpcisHeaders()
@Controller('v1/epcis/capture')
export class CaptureController {
  constructor(
    @Inject(CaptureService) private readonly capture: CaptureService,
    @Inject(XsdValidation) private readonly xsd: XsdValidation,
  ) {}

  @Post()
  @HttpCode(202)
  @Roles('operator')
  @ApiOperation({
    summary: 'Capture an EPCIS 2.0 document (JSON / JSON-LD, or EPCIS 2.0 or 1.2 XML as application/xml)',
    description:
      'Validated against the EPCIS 2.0 JSON Schema (400 with the schema errors), then stored in the background onto the trace chains of ' +
      'the domains owning the GTINs. The answer is the capture job (Location: /v1/epcis/capture/{id}). GS1-Capture-Error-Behaviour: ' +
      'rollback (default: nothing is stored if any event fails) or proceed (good events stored, bad ones listed in errors). ' +
      'The same event (EPCIS event hash) is stored once. An XML document (Content-Type: application/xml or text/xml; EPCIS 2.0, or 1.2 ' +
      'with its extension wrappers) is validated against GS1\'s XSD of its version (400 epcis-schema naming the lines) and read into ' +
      'its JSON binding (400 epcis-document when not well-formed or not an EPCIS document), so it stores the same events, with the ' +
      'same hashes, as its JSON translation.',
  })
  @ApiHeader({ name: 'GS1-Capture-Error-Behaviour', required: false, enum: ['rollback', 'proceed'] })
  @ApiBody({ description: 'An EPCIS 2.0 EPCISDocument', schema: schemaOfExample(CAPTURE_REQUEST_EXAMPLE) as never, examples: { storing: { summary: 'One ObjectEvent', value: CAPTURE_REQUEST_EXAMPLE } } })
  @ApiJsonResponse(202, 'The capture job: { captureID, createdAt, running, success, captureErrorBehaviour, errors, progress }', CAPTURE_JOB_EXAMPLE)
  @ApiBadRequestResponse({ description: 'Not an EPCISDocument valid against the schema; errors lists where' })
  async submit(
    @Body() body: unknown,
    @Headers('gs1-capture-error-behaviour') behaviourHeader: string | undefined,
    @Headers('authorization') authorization: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const doc = await captureBody(req, body, this.xsd);
    const behaviour = (behaviourHeader ?? 'rollback').trim().toLowerCase();
    if (behaviour !== 'rollback' && behaviour !== 'proceed') {
      throw badRequest('capture-error-behaviour', 'GS1-Capture-Error-Behaviour is rollback or proceed', [
        { field: 'GS1-Capture-Error-Behaviour', message: 'must be rollback or proceed' },
      ]);
    }
    const job = await this.capture.submit(doc, behaviour as ErrorBehaviour, principal, bearerOf(authorization));
    res.setHeader('Location', `/v1/epcis/capture/${job.captureID}`);
    return job;
  }

  @Options()
  @HttpCode(204)
  @ApiOperation({ summary: 'Discovery: methods, EPCIS/CBV versions, GS1-EPCIS-Capture-Limit, GS1-EPCIS-Capture-File-Size-Limit, error behaviours' })
  options(@Res({ passthrough: true }) res: Response) {
    discover(res, ['GET', 'POST'], { limit: MAX_EVENTS });
  }

  @Options(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Discovery of a capture job' })
  jobOptions(@Res({ passthrough: true }) res: Response) {
    discover(res, ['GET']);
  }

  @Get()
  @ApiJsonResponse(200, 'The latest 100 capture jobs of the organisation (of all for inspectors and regulators), newest first', [CAPTURE_JOB_DONE_EXAMPLE])
  jobs(@CurrentPrincipal() principal: Principal) {
    return this.capture.jobs(principal);
  }

  @Get(':id')
  @ApiJsonResponse(200, 'The capture job with its progress and errors', CAPTURE_JOB_DONE_EXAMPLE)
  job(@Param('id', new ParseUUIDPipe({ version: '4' })) id: string, @CurrentPrincipal() principal: Principal) {
    return this.capture.job(id, principal);
  }
}

const QUERY_DESCRIPTION =
  'SimpleEventQuery parameters (EPCIS 2.0 §8.2.7.1): eventType, GE_/LT_eventTime, GE_/LT_recordTime, EQ_action, EQ_bizStep, EQ_disposition, ' +
  'EQ_persistentDisposition, MATCH_epc / parentID / inputEPC / outputEPC / anyEPC / epcClass / inputEPCClass / outputEPCClass / anyEPCClass ' +
  '(EPCs, classes or urn:epc:idpat: patterns, each on its own fields), EQ_/WD_bizLocation, EQ_/WD_readPoint, EQ_transformationID, ' +
  'EQ_/GT_/GE_/LT_/LE_quantity, EQ_bizTransaction_{type}, EQ_source_{type}, EQ_destination_{type}, EQ_eventID (eventID or event hash), ' +
  'EXISTS_errorDeclaration, GE_/LT_errorDeclarationTime, EQ_errorReason, EQ_correctiveEventID, EXISTS_{field}, ' +
  'EQ_persistentDisposition_set / _unset, EQ_/GT_/GE_/LT_/LE_quantity_{uom}; sensor data: EQ_type, EQ_deviceID, EQ_dataProcessingMethod, ' +
  'EQ_bizRules, EQ_microorganism, EQ_chemicalSubstance, EQ_stringValue, EQ_booleanValue, EQ_hexBinaryValue, EQ_uriValue, GE_/LT_time, ' +
  'GE_/LT_startTime, GE_/LT_endTime, GT_/GE_/LT_/LE_percRank, EQ_value_{uom}, GT_/GE_/LT_/LE_{value|minValue|maxValue|meanValue|sDev|percValue}_{uom} ' +
  '(that unit only, no conversion); fields by their CURIE (prefix:name as captured): EQ_/GT_/GE_/LT_/LE_/EXISTS_ followed by INNER_ (nested) ' +
  'and one of ILMD_, ERROR_DECLARATION_, SENSORELEMENT_, SENSORMETADATA_, SENSORREPORT_, readPoint_, bizLocation_ or nothing (the event\'s ' +
  'own extensions), e.g. EQ_ILMD_example:grade, GT_INNER_ILMD_example:score, EXISTS_example:shift. Master data (declared in captured ' +
  'documents\' headers, every organisation\'s latest statement): HASATTR_{field} (attribute names) and EQATTR_{field}_{attribute} ' +
  '(values) on readPoint, bizLocation, bizStep, disposition, persistentDisposition, epcClass (EPCClass master data of the classes an event names: ' +
  'its quantity lists and its EPCs\' GTINs; a GTIN pattern urn:epc:idpat:sgtin:…* describes its lots and instances), epc (EPCInstance and ' +
  'EPCClass master data of the EPCs: epcList, childEPCs, parentID, inputEPCList, outputEPCList, each also on its own), bizTransaction, ' +
  'bizTransactionType, source, destination, sourceType, destinationType and errorReason, e.g. EQATTR_bizLocation_urn:epcglobal:cbv:mda#sst=201, ' +
  'HASATTR_epcClass=cbvmda:tradeItemDescription; WD_readPoint and ' +
  'WD_bizLocation include the children master data declares, at any depth, and a GLN\'s extensions. Any other parameter or a malformed value ' +
  'is a 400 with epcisException: epcisException:QueryParameterException. orderBy (recordTime, eventTime), ' +
  'orderDirection (ASC, DESC), eventCountLimit, maxEventCount (413 when more match), perPage (default 30, at most 1000) and the nextPageToken of ' +
  'the Link rel="next" header. Operators see the events of batches their organisation holds or held and the partner events it captured; ' +
  'inspectors and regulators see all.';

@ApiTags('epcis')
@ApiBearerAuth()
@UseInterceptors(EpcisHeadersInterceptor)
@ApiEpcisHeaders()
@Controller('v1/epcis/events')
export class EventsController {
  constructor(
    @Inject(QueryService) private readonly queries: QueryService,
    @Inject(CaptureService) private readonly capture: CaptureService,
    @Inject(XsdValidation) private readonly xsd: XsdValidation,
  ) {}

  @Get()
  @ApiOperation({ summary: 'EPCIS events (SimpleEventQuery), over every trace chain and the partner events', description: QUERY_DESCRIPTION })
  @ApiJsonResponse(200, 'An EPCISQueryDocument (EPCIS 2.0 XML with Accept: application/xml)', QUERY_DOCUMENT_EXAMPLE)
  @ApiBadRequestResponse({ description: 'Unknown parameter or malformed value (epcisException: epcisException:QueryParameterException, errors[] names each)' })
  async events(
    @Query() params: Record<string, string | string[]>,
    @Headers('authorization') authorization: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { document, nextPageToken } = await this.queries.query(this.queries.parse(openPageToken(params)), principal, bearerOf(authorization));
    pageLink(req, res, params, nextPageToken);
    return document;
  }

  @Options()
  @HttpCode(204)
  @ApiOperation({ summary: 'Discovery: methods, EPCIS/CBV versions, GS1-EPCIS-Capture-Limit (one event), GS1-EPCIS-Capture-File-Size-Limit' })
  options(@Res({ passthrough: true }) res: Response) {
    discover(res, ['GET', 'POST'], { limit: 1 });
  }

  @Options(':eventID')
  @HttpCode(204)
  @ApiOperation({ summary: 'Discovery of an event resource' })
  eventOptions(@Res({ passthrough: true }) res: Response) {
    discover(res, ['GET']);
  }

  @Post()
  @HttpCode(201)
  @Roles('operator')
  @ApiOperation({
    summary: 'Capture one EPCIS event (synchronous)',
    description:
      'The event (JSON / JSON-LD, its @context optional) is validated, stored as a one-event document would be (rollback) and answered ' +
      'with its eventID (its own, else its event hash) and Location: /v1/epcis/events/{eventID}. 400 with the reasons when refused. ' +
      'As XML (Content-Type: application/xml or text/xml) the body is an EPCIS 2.0 (or 1.2) XML EPCISDocument holding exactly one event, ' +
      'validated against GS1\'s XSD and read as POST /v1/epcis/capture reads it (its namespaces become the event\'s @context); ' +
      '400 epcis-document when it holds no event or more than one.',
  })
  @ApiBody({ description: 'One EPCIS 2.0 event', schema: schemaOfExample(EVENT_REQUEST_EXAMPLE) as never, examples: { storing: { summary: 'An ObjectEvent', value: EVENT_REQUEST_EXAMPLE } } })
  @ApiJsonResponse(201, 'The stored event, with its eventID', STORED_EVENT_EXAMPLE)
  async create(
    @Body() body: unknown,
    @Headers('authorization') authorization: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const event = await this.capture.captureEvent(await this.eventBody(req, body), principal, bearerOf(authorization));
    res.setHeader('Location', `/v1/epcis/events/${encodeURIComponent(event.eventID as string)}`);
    return event;
  }

  /** The one event of the body: JSON as sent, or the single event of an XML EPCISDocument with the document's @context. */
  private async eventBody(req: Request, body: unknown): Promise<unknown> {
    if (!req.headers['content-type'] || !req.is([...XML_TYPES, 'application/*+xml'])) {
      requireJson(req);
      return body;
    }
    const doc = (await captureBody(req, body, this.xsd)) as EpcisDocument;
    const events = doc.epcisBody?.eventList ?? [];
    if (events.length !== 1) {
      throw badRequest('epcis-document', `POST /v1/epcis/events takes one event, the document holds ${events.length}; capture documents with POST /v1/epcis/capture`, [
        { field: 'EPCISBody/EventList', message: `must hold exactly one event, not ${events.length}` },
      ]);
    }
    return { '@context': doc['@context'], ...events[0] };
  }

  @Get(':eventID')
  @ApiOperation({
    summary: 'One EPCIS event by its eventID or its event hash (ni:///sha-256;…), with any error declaration of it',
    description: 'An event recorded over the REST API has no eventID of its own: it is named by its CBV event hash (as in exports and query answers), and found by that or by the urn:uuid: of its chain link.',
  })
  @ApiJsonResponse(200, 'An EPCISQueryDocument of the event', QUERY_DOCUMENT_EXAMPLE)
  @ApiNotFoundResponse({ description: 'No such event visible to the caller' })
  event(@Param('eventID') eventID: string, @Headers('authorization') authorization: string | undefined, @CurrentPrincipal() principal: Principal) {
    return this.queries.event(eventID, principal, bearerOf(authorization));
  }
}

/** The top-level resources of the REST binding and the query their /{value}/events stands for. */
const RESOURCES = {
  eventTypes: 'eventType',
  epcs: 'MATCH_anyEPC',
  bizSteps: 'EQ_bizStep',
  bizLocations: 'EQ_bizLocation',
  readPoints: 'EQ_readPoint',
  dispositions: 'EQ_disposition',
} as const;
type Resource = keyof typeof RESOURCES;

@ApiTags('epcis')
@ApiBearerAuth()
@UseInterceptors(EpcisHeadersInterceptor)
@ApiEpcisHeaders()
@Controller('v1/epcis')
export class TopLevelController {
  constructor(@Inject(QueryService) private readonly queries: QueryService) {}

  @Get()
  @ApiOperation({ summary: 'The top-level resources of this EPCIS repository (a Collection)' })
  @ApiJsonResponse(200, 'A Collection of the top-level resources', ROOT_EXAMPLE)
  root() {
    return { '@context': EPCIS_CONTEXT, type: 'Collection', member: ['capture', 'events', ...Object.keys(RESOURCES)] };
  }

  @Options()
  @HttpCode(204)
  @ApiOperation({ summary: 'Discovery: EPCIS and CBV versions of this repository' })
  rootOptions(@Res({ passthrough: true }) res: Response) {
    discover(res, ['GET']);
  }

  @Options([':resource', ':resource/:value', ':resource/:value/events'])
  @HttpCode(204)
  @ApiOperation({ summary: 'Discovery of a top-level resource, one of its values, or its events' })
  resourceOptions(@Param('resource') resource: string, @Res({ passthrough: true }) res: Response) {
    this.resource(resource);
    discover(res, ['GET']);
  }

  @Get(':resource')
  @ApiOperation({
    summary: 'The values of a top-level resource: eventTypes, epcs, bizSteps, bizLocations, readPoints, dispositions (a Collection)',
    description:
      'eventTypes: the five EPCIS event types; bizSteps and dispositions: the CBV 2.0 vocabularies and any other value the visible events use; ' +
      'epcs, bizLocations, readPoints: the values the caller\'s visible events name. Paged with perPage and nextPageToken.',
  })
  @ApiJsonResponse(200, 'A Collection of the values', VALUES_EXAMPLE)
  async values(
    @Param('resource') resource: string,
    @Query() params: Record<string, string | string[]>,
    @Headers('authorization') authorization: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const r = this.resource(resource);
    const { member, nextPageToken } = await this.queries.values(r, openPageToken(params), principal, bearerOf(authorization));
    pageLink(req, res, params, nextPageToken);
    return { '@context': EPCIS_CONTEXT, type: 'Collection', member };
  }

  @Get(':resource/:value')
  @ApiOperation({ summary: 'One value of a top-level resource: the sub-resources it has (events)' })
  @ApiJsonResponse(200, 'A Collection of its sub-resources', VALUE_EXAMPLE)
  one(@Param('resource') resource: string) {
    this.resource(resource);
    return { '@context': EPCIS_CONTEXT, type: 'Collection', member: ['events'] };
  }

  @Get(':resource/:value/events')
  @ApiOperation({ summary: 'The events of one value (an event type, an EPC, a bizStep, a bizLocation, a readPoint, a disposition)', description: QUERY_DESCRIPTION })
  @ApiJsonResponse(200, 'An EPCISQueryDocument', QUERY_DOCUMENT_EXAMPLE)
  async events(
    @Param('resource') resource: string,
    @Param('value') value: string,
    @Query() params: Record<string, string | string[]>,
    @Headers('authorization') authorization: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const q = this.queries.parse(openPageToken(params), { [RESOURCES[this.resource(resource)]]: value });
    const { document, nextPageToken } = await this.queries.query(q, principal, bearerOf(authorization));
    pageLink(req, res, params, nextPageToken);
    return document;
  }

  @Delete('nextPageToken/:token')
  @ApiOperation({
    summary: 'Release a nextPageToken: 501, page tokens hold nothing to release',
    description:
      'The binding\'s optional endpoint. Page tokens here are stateless (the keyset position or offset of the next page, encoded, with ' +
      'the expiry given as GS1-Next-Page-Token-Expires, a day after the page): the server keeps nothing for them, so there is nothing to ' +
      'release and no way to make one stop working before it expires; the answer is the binding\'s 501 (epcisException: ' +
      'epcisException:ImplementationException).',
  })
  @ApiResponse({ status: 501, description: 'Not implemented: page tokens are stateless (epcisException:ImplementationException)' })
  discardToken(): never {
    throw new DomainError(501, 'not-implemented', 'Page tokens of this repository are stateless: nothing is held for them, and they cannot be invalidated', {
      epcisException: 'epcisException:ImplementationException',
    });
  }

  private resource(name: string): Resource {
    if (!(name in RESOURCES)) throw notFound('epcis-resource', `No EPCIS resource ${name}`);
    return name as Resource;
  }
}
