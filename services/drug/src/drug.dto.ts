import { ApiPropertyOptional, ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

export const MAX_CODES_PER_REQUEST = 10_000;

export class RegisterCodesDto {
  @ApiPropertyOptional({ example: ['(01)06917965443329(21)WCXU0CVNK6KL'], description: '20-digit Chinese drug trace codes, GS1 element strings (01)…(21)… or Digital Links /01/…/21/…' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_CODES_PER_REQUEST)
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  codes?: string[];

  @ApiPropertyOptional({ example: 2, description: 'How many codes to generate instead', minimum: 1, maximum: MAX_CODES_PER_REQUEST })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_CODES_PER_REQUEST)
  count?: number;
}

export class CodeDto {
  @ApiProperty({ example: '81234560000000010098' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  code: string;
}

export class DispenseDto extends CodeDto {
  @ApiPropertyOptional({ example: '1fbf8517-d64a-41f8-90c7-c2e8d05875c3', description: "Where it is dispensed; by default the batch's current location" })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  locationId?: string;
}

export class ReleaseDto {
  @ApiPropertyOptional({ description: 'Number of the batch release certificate; generated when absent', example: 'BR2026-000123' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9/_.-]{0,63}$/, { message: 'number must be 1-64 letters, digits, "/", "_", "." or "-"' })
  number?: string;

  @ApiPropertyOptional({ example: 'Released after review of the batch records' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  note?: string;
}
