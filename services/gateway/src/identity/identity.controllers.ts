import { Body, Controller, Delete, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiExcludeController,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiNoContentResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { CurrentPrincipal, Internal, notFound, PLATFORM_CONFIG, Public, Roles, type PlatformConfig, type Principal } from '@trace/platform';
import {
  ClientCredentialsDto,
  CreateClientDto,
  CreateLocationDto,
  CreateOrganisationDto,
  LocationDto,
  OrganisationDto,
  TokenRequestDto,
  TokenResponseDto,
} from './dto';
import { IdentityService } from './identity.service';
import { clientAddress } from '../scan/negotiation';
import { LocationService } from './locations.service';
import { CLIENT_EXAMPLE, LOCATION_EXAMPLE, ORGANISATION_EXAMPLE, TOKEN_EXAMPLE } from '../openapi-examples';

@ApiTags('auth')
@Controller('v1/auth')
export class AuthController {
  constructor(
    @Inject(IdentityService) private readonly identity: IdentityService,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {}

  @Post('token')
  @Public()
  @HttpCode(200)
  @ApiOkResponse({ type: TokenResponseDto, description: 'A bearer token for the client', example: TOKEN_EXAMPLE })
  @ApiBadRequestResponse({ description: 'Malformed body' })
  @ApiUnauthorizedResponse({ description: 'Unknown client or wrong secret (the same answer for both)' })
  @ApiTooManyRequestsResponse({
    description:
      'Too many requests from this address (AUTH_RATE_LIMIT a minute), a client id or address locked after repeated wrong secrets (1, 2, 4 … s, at most 15 min), or too many sign-ins at once (token-endpoint-busy); Retry-After says when to try again',
  })
  token(@Body() dto: TokenRequestDto, @Req() req: Request): Promise<TokenResponseDto> {
    const address = clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], this.config.TRUST_PROXY_HOPS);
    return this.identity.issueToken(dto.clientId, dto.clientSecret, address);
  }
}

@ApiTags('organisations')
@ApiBearerAuth()
@Controller('v1/orgs')
export class OrganisationsController {
  constructor(@Inject(IdentityService) private readonly identity: IdentityService) {}

  @Post()
  @HttpCode(201)
  @Roles('admin')
  @ApiCreatedResponse({ type: OrganisationDto, example: ORGANISATION_EXAMPLE })
  @ApiForbiddenResponse({ description: 'Not an admin' })
  @ApiBadRequestResponse({ description: 'Malformed body, or a GLN that is not 13 digits or has a wrong check digit (problem type gln)' })
  @ApiConflictResponse({
    description: 'An organisation of this kind has this name already (organisation-name-taken), or another organisation has this GLN (organisation-gln-taken); existingOrgId names it',
  })
  create(@Body() dto: CreateOrganisationDto): Promise<OrganisationDto> {
    return this.identity.createOrganisation(dto.name, dto.kind, dto.gln);
  }

  @Get(':id')
  @ApiOkResponse({ type: OrganisationDto, example: ORGANISATION_EXAMPLE })
  @ApiNotFoundResponse({ description: 'No such organisation, or the caller is neither an admin nor a member of it' })
  get(@Param('id') id: string, @CurrentPrincipal() caller: Principal): Promise<OrganisationDto> {
    return this.identity.getOrganisation(id, caller);
  }

  @Post(':orgId/clients')
  @HttpCode(201)
  @Roles('admin')
  @ApiCreatedResponse({ type: ClientCredentialsDto, description: 'The secret is shown this once', example: CLIENT_EXAMPLE })
  @ApiNotFoundResponse({ description: 'No such organisation' })
  @ApiUnprocessableEntityResponse({ description: 'The role does not fit the kind of organisation (problem type role-org-kind)' })
  createClient(@Param('orgId') orgId: string, @Body() dto: CreateClientDto): Promise<ClientCredentialsDto> {
    return this.identity.createClient(orgId, dto.role);
  }

  @Post(':orgId/clients/:clientId/rotate')
  @HttpCode(200)
  @Roles('admin')
  @ApiOkResponse({ type: ClientCredentialsDto, description: 'The new secret, shown this once; tokens issued before stop working within seconds', example: CLIENT_EXAMPLE })
  @ApiForbiddenResponse({ description: 'Not an admin' })
  @ApiNotFoundResponse({ description: 'No such client in this organisation (or it was deleted)' })
  rotateClient(@Param('orgId') orgId: string, @Param('clientId') clientId: string): Promise<ClientCredentialsDto> {
    return this.identity.rotateClient(orgId, clientId);
  }

  @Delete(':orgId/clients/:clientId')
  @HttpCode(204)
  @Roles('admin')
  @ApiNoContentResponse({ description: 'Deleted: no new tokens, and the tokens it has stop working within seconds' })
  @ApiForbiddenResponse({ description: 'Not an admin' })
  @ApiNotFoundResponse({ description: 'No such client in this organisation (or it was deleted already)' })
  async deleteClient(@Param('orgId') orgId: string, @Param('clientId') clientId: string): Promise<void> {
    await this.identity.deleteClient(orgId, clientId);
  }
}

@ApiTags('locations')
@ApiBearerAuth()
@Controller('v1/locations')
export class LocationsController {
  constructor(@Inject(LocationService) private readonly locations: LocationService) {}

  @Post()
  @HttpCode(201)
  @Roles('operator', 'admin')
  @ApiCreatedResponse({ type: LocationDto, description: "A location of the caller's organisation, or (admin) of the organisation `orgId` names", example: LOCATION_EXAMPLE })
  @ApiBadRequestResponse({ description: 'Malformed body or a GLN with a wrong check digit' })
  create(@Body() dto: CreateLocationDto, @CurrentPrincipal() caller: Principal): Promise<LocationDto> {
    return this.locations.create(dto, caller);
  }

  @Get(':id')
  @ApiOkResponse({ type: LocationDto, example: LOCATION_EXAMPLE })
  @ApiNotFoundResponse({
    description: "No such location, or not the caller's to see: a location is for its organisation, that organisation's trading partners on a shared batch, inspectors and regulators",
  })
  get(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() caller: Principal): Promise<LocationDto> {
    return this.locations.get(id, caller);
  }
}

/**
 * What other services ask in distributed mode (libs/platform HttpDirectory):
 * only with a service credential; not HTTP at all when embedded. Not part of
 * the public API.
 */
@ApiExcludeController()
@Internal()
@Public()
@Controller('internal/v1')
export class InternalDirectoryController {
  constructor(@Inject(LocationService) private readonly directory: LocationService) {}

  @Get('organisations/:id')
  async organisation(@Param('id') id: string) {
    const org = await this.directory.organisation(id);
    if (!org) throw notFound('organisation', `No organisation ${id}`);
    return org;
  }

  @Get('organisations/by-gln/:gln')
  async organisationByGln(@Param('gln') gln: string) {
    const org = await this.directory.organisationByGln(gln);
    if (!org) throw notFound('organisation', `No organisation with GLN ${gln}`);
    return org;
  }

  @Get('locations/:id')
  async location(@Param('id') id: string) {
    const location = await this.directory.location(id);
    if (!location) throw notFound('location', `No location ${id}`);
    return location;
  }
}
