import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsDateString,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  ValidateNested,
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
  @ValidateNested()
  @Type(() => QuantityDto)
  quantity: QuantityDto;

  @ApiProperty({ example: '2026-11-20T08:00:00+08:00' })
  @IsDateString({ strict: true })
  producedAt: string;

  @ApiProperty()
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  locationId: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsDateString({ strict: true })
  expiresAt?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsObject()
  attributes?: Record<string, unknown>;
}
