import { IsOffsetTime, Nested } from '@trace/platform';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsUUID,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
} from 'class-validator';

export class QuantityDto {
  @ApiProperty({ example: 1200 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  value: number;

  @ApiProperty({ example: 'kg' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(16)
  unit: string;
}

export const DOMAIN_NAMES = ['agri', 'food', 'drug', 'material', 'goods'] as const;

export class BatchInputDto {
  @ApiProperty({ example: 'agri', enum: DOMAIN_NAMES })
  @IsIn(DOMAIN_NAMES)
  domain: (typeof DOMAIN_NAMES)[number];

  @ApiProperty({ example: '8765cc77-b133-4213-9cf9-0d507dcd2340' })
  @IsUUID('4')
  batchId: string;

  @ApiProperty({ type: QuantityDto })
  @Nested(() => QuantityDto)
  quantity: QuantityDto;
}

export class RegisterProductDto {
  @ApiProperty({ example: '09506000134352' })
  @IsString()
  @Matches(/^\d{8}$|^\d{12,14}$/, { message: 'gtin must be 8, 12, 13 or 14 digits' })
  gtin: string;

  @ApiProperty({ example: 'Cherry tomatoes' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;

  @ApiProperty({ example: 'vegetable', description: 'One of the codes of GET /v1/{domain}/categories (a closed list per domain); any other is a 400' })
  @IsString()
  @Matches(/^[a-z][a-z0-9_]{0,39}$/, { message: 'category must be a lowercase identifier' })
  category: string;

  @ApiPropertyOptional({ example: { variety: '千禧 Qianxi', packaging: '5 kg crate' } })
  @IsOptional()
  @IsObject()
  attributes?: Record<string, unknown>;
}

export class DocumentRefDto {
  @ApiProperty({ example: 'po' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(40)
  type: string;

  @ApiProperty({ example: 'PO-2026-118' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  id: string;
}

export class SensorReadingDto {
  @ApiProperty({ example: 'temperature' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(40)
  type: string;

  @ApiProperty({ example: 4.5 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  value: number;

  @ApiProperty({ example: 'Cel' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(16)
  unit: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-21T08:00:00+08:00', description: 'RFC 3339 with a UTC offset (a time without one is a 400); given back in the offset it was written with' })
  @IsOffsetTime()
  time: string;
}

export class RecordEventDto {
  @ApiProperty({ example: 'shipping', description: 'CBV 2.0 bizStep short name' })
  @IsString()
  @Matches(/^[a-z_]{2,40}$/, { message: 'bizStep must be a CBV 2.0 bizStep name' })
  bizStep: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-21T08:00:00+08:00', description: 'RFC 3339 with a UTC offset (a time without one is a 400); given back in the offset it was written with' })
  @IsOffsetTime()
  eventTime: string;

  @ApiProperty({ example: 'a57ce6f7-29b8-45d4-9aff-a89a48350dd9' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  locationId: string;

  @ApiPropertyOptional({ example: 'in_transit' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z_]{2,40}$/, { message: 'disposition must be a CBV 2.0 disposition name' })
  disposition?: string;

  @ApiPropertyOptional({ example: 'c92dfc37-18ec-4095-9f8c-d034e07d20fe' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  toOrgId?: string;

  @ApiPropertyOptional({ example: '1fbf8517-d64a-41f8-90c7-c2e8d05875c3' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  toLocationId?: string;

  @ApiPropertyOptional({ type: QuantityDto })
  @IsOptional()
  @Nested(() => QuantityDto)
  quantity?: QuantityDto;

  @ApiPropertyOptional({ type: [DocumentRefDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @Nested(() => DocumentRefDto, { each: true })
  documents?: DocumentRefDto[];

  @ApiPropertyOptional({ type: [SensorReadingDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @Nested(() => SensorReadingDto, { each: true })
  sensors?: SensorReadingDto[];
}

export class RegisterBatchDto {
  @ApiProperty({ example: '09506000134352', description: 'GTIN-8/12/13/14 with a valid check digit' })
  @IsString()
  @Matches(/^\d{8}$|^\d{12,14}$/, { message: 'gtin must be 8, 12, 13 or 14 digits' })
  gtin: string;

  @ApiProperty({ example: 'LOT-2026-001', description: 'AI 10: up to 20 GS1 characters' })
  @IsString()
  @Matches(/^[!"%-?A-Z_a-z]{1,20}$/, { message: 'lot must be 1-20 characters of the GS1 character set' })
  lot: string;

  @ApiProperty({ type: QuantityDto })
  @Nested(() => QuantityDto)
  quantity: QuantityDto;

  @ApiProperty({ format: 'date-time', example: '2026-11-20T08:00:00+08:00', description: 'RFC 3339 with a UTC offset (a time without one is a 400); given back in the offset it was written with' })
  @IsOffsetTime()
  producedAt: string;

  @ApiProperty({ example: 'a57ce6f7-29b8-45d4-9aff-a89a48350dd9' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  locationId: string;

  @ApiPropertyOptional({ format: 'date-time', example: '2027-05-20T00:00:00+08:00', description: 'RFC 3339 with a UTC offset (a time without one is a 400); given back in the offset it was written with' })
  @IsOptional()
  @IsOffsetTime()
  expiresAt?: string;

  @ApiPropertyOptional({ type: () => [BatchInputDto], description: 'Makes this a transformation: input batches of any domain' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(500)
  @Nested(() => BatchInputDto, { each: true })
  inputs?: BatchInputDto[];

  @ApiPropertyOptional({ example: { harvestField: 'Greenhouse 3, row 12' } })
  @IsOptional()
  @IsObject()
  attributes?: Record<string, unknown>;

  @ApiPropertyOptional({ type: [DocumentRefDto], description: 'Harvest, packing or batch records behind the registration (FSMA 204 reference documents)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @Nested(() => DocumentRefDto, { each: true })
  documents?: DocumentRefDto[];
}
