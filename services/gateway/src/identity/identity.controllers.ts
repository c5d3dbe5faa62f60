import { Body, Controller, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiExcludeController,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { CurrentPrincipal, Internal, notFound, Public, Roles, type Principal } from '@trace/platform';
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
import { LocationService } from './locations.service';

@ApiTags('auth')
@Controller('v1/auth')
export class AuthController {
  constructor(@Inject(IdentityService) private readonly identity: IdentityService) {}

  @Post('token')
  @Public()
  @HttpCode(200)
  @ApiOkResponse({ type: TokenResponseDto, description: 'A bearer token for the client' })
  @ApiBadRequestResponse({ description: 'Malformed body' })
  @ApiUnauthorizedResponse({ description: 'Unknown client or wrong secret (the same answer for both)' })
  token(@Body() dto: TokenRequestDto): Promise<TokenResponseDto> {
    return this.identity.issueToken(dto.clientId, dto.clientSecret);
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
  @ApiCreatedResponse({ type: OrganisationDto })
  @ApiForbiddenResponse({ description: 'Not an admin' })
  create(@Body() dto: CreateOrganisationDto): Promise<OrganisationDto> {
    return this.identity.createOrganisation(dto.name, dto.kind);
  }

  @Get(':id')
  @ApiOkResponse({ type: OrganisationDto })
  @ApiNotFoundResponse({ description: 'No such organisation, or the caller is neither an admin nor a member of it' })
  get(@Param('id') id: string, @CurrentPrincipal() caller: Principal): Promise<OrganisationDto> {
    return this.identity.getOrganisation(id, caller);
  }

  @Post(':orgId/clients')
  @HttpCode(201)
  @Roles('admin')
  @ApiCreatedResponse({ type: ClientCredentialsDto, description: 'The secret is shown this once' })
  @ApiNotFoundResponse({ description: 'No such organisation' })
  @ApiUnprocessableEntityResponse({ description: 'The role does not fit the kind of organisation (problem type role-org-kind)' })
  createClient(@Param('orgId') orgId: string, @Body() dto: CreateClientDto): Promise<ClientCredentialsDto> {
    return this.identity.createClient(orgId, dto.role);
  }
}

@ApiTags('locations')
@ApiBearerAuth()
@Controller('v1/locations')
export class LocationsController {
  constructor(@Inject(LocationService) private readonly locations: LocationService) {}

  @Post()
  @HttpCode(201)
  @Roles('operator')
  @ApiCreatedResponse({ type: LocationDto, description: "A location of the caller's organisation" })
  @ApiBadRequestResponse({ description: 'Malformed body or a GLN with a wrong check digit' })
  create(@Body() dto: CreateLocationDto, @CurrentPrincipal() caller: Principal): Promise<LocationDto> {
    return this.locations.create(dto, caller);
  }

  @Get(':id')
  @ApiOkResponse({ type: LocationDto })
  @ApiNotFoundResponse({ description: 'No such location' })
  get(@Param('id', new ParseUUIDPipe()) id: string): Promise<LocationDto> {
    return this.locations.get(id);
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

  @Get('locations/:id')
  async location(@Param('id') id: string) {
    const location = await this.directory.location(id);
    if (!location) throw notFound('location', `No location ${id}`);
    return location;
  }
}
