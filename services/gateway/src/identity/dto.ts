import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { LOCATION_KINDS, ORG_KINDS, ROLES, type LocationKind, type OrgKind, type Role } from '@trace/platform';

const NOT_BLANK = /\S/;

export class TokenRequestDto {
  @ApiProperty({ example: 'admin' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  clientId: string;

  @ApiProperty({ example: 'the secret shown when the client was created' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  clientSecret: string;
}

export class TokenResponseDto {
  @ApiProperty({ description: 'HS256 JWT; claims sub (client id), org, role, ver (the client\'s token version: a rotation or deletion retires older tokens)' })
  accessToken: string;

  @ApiProperty({ enum: ['Bearer'] })
  tokenType: 'Bearer';

  @ApiProperty({ description: 'Seconds until the token expires', example: 3600 })
  expiresIn: number;
}

export class CreateOrganisationDto {
  @ApiProperty({ example: 'Shouguang Green Farm Co-op' })
  @IsString()
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  @MaxLength(200)
  name: string;

  @ApiProperty({ example: 'producer', enum: ORG_KINDS })
  @IsIn(ORG_KINDS)
  kind: OrgKind;

  @ApiPropertyOptional({
    example: '9506000134352',
    description:
      'Party GLN (PGLN): 13 digits with a valid GS1 check digit, unique among organisations (409 organisation-gln-taken). ' +
      'EPCIS exports and query answers name the organisation by it (https://id.gs1.org/417/<gln>) as shipper and receiver. ' +
      'Given at creation only and never changed: the event hashes of exported events contain it.',
  })
  @IsOptional()
  @IsString()
  gln?: string;
}

export class OrganisationDto {
  @ApiProperty()
  id: string;

  @ApiProperty()
  name: string;

  @ApiProperty({ enum: [...ORG_KINDS, 'platform'], description: '`platform` only for the built-in organisation of the admins' })
  kind: OrgKind | 'platform';

  @ApiPropertyOptional({ example: '9506000134352', description: 'Its party GLN, when it was given one at creation (absent otherwise)' })
  gln?: string;
}

export class CreateClientDto {
  @ApiProperty({
    example: 'operator',
    enum: ROLES,
    description:
      'operator: producer, processor, distributor, retailer, construction_company, pharmacy or hospital; ' +
      'inspector: inspection_agency; regulator: regulator; admin: the platform organisation only',
  })
  @IsIn(ROLES)
  role: Role;
}

export class ClientCredentialsDto {
  @ApiProperty()
  clientId: string;

  @ApiProperty({ description: 'Shown this once; only a hash is stored' })
  clientSecret: string;

  @ApiProperty()
  orgId: string;

  @ApiProperty({ enum: ROLES })
  role: Role;
}

export class CreateLocationDto {
  @ApiProperty({ example: 'North greenhouse' })
  @IsString()
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  @MaxLength(200)
  name: string;

  @ApiProperty({ example: 'farm', enum: LOCATION_KINDS })
  @IsIn(LOCATION_KINDS)
  kind: LocationKind;

  @ApiPropertyOptional({ example: 'CN-37', description: 'Administrative region, e.g. an ISO 3166-2 code' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  region?: string;

  @ApiPropertyOptional({ example: '山东省寿光市洛城街道 Shouguang, Shandong' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  address?: string;

  @ApiPropertyOptional({ example: '9506000134352', description: 'GS1 Global Location Number: 13 digits with a valid check digit' })
  @IsOptional()
  @IsString()
  gln?: string;

  @ApiPropertyOptional({
    example: 'b3c27de8-68f6-4cdd-9852-66c8744bd467',
    description: "The organisation the location belongs to: required from an admin; an operator's is its own (another is a 403)",
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  orgId?: string;
}

export class LocationDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  orgId: string;

  @ApiProperty()
  name: string;

  @ApiProperty({ example: 'farm', enum: LOCATION_KINDS })
  kind: LocationKind;

  @ApiProperty({ nullable: true, type: String })
  region: string | null;

  @ApiProperty({ nullable: true, type: String })
  address: string | null;

  @ApiProperty({ nullable: true, type: String })
  gln: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}
