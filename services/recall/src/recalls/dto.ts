import { Nested } from '@trace/platform';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsNotEmpty,
  IsNumber,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  Min,
} from 'class-validator';
import { DOMAINS } from '@trace/contracts';
import { RECALL_LEVELS, type RecallLevel } from './deadlines';

export class RecallRootDto {
  @ApiProperty({ example: 'agri', enum: DOMAINS })
  @IsIn(DOMAINS)
  domain: string;

  @ApiProperty({ example: '8765cc77-b133-4213-9cf9-0d507dcd2340', format: 'uuid' })
  @IsUUID()
  batchId: string;
}

export class RecallDetailsDto {
  @ApiProperty({ example: 1, enum: RECALL_LEVELS, description: '1 (most severe) to 3; sets the deadlines' })
  @IsIn(RECALL_LEVELS)
  level: RecallLevel;

  @ApiProperty({ example: 'Chlorpyrifos residue above the limit' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(2000)
  reason: string;

  @ApiPropertyOptional({ example: 'Acute toxicity' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  hazard?: string;
}

export class CreateRecallDto extends RecallDetailsDto {
  @ApiProperty({ type: [RecallRootDto], description: 'The batches recalled; everything made from them downstream joins the scope' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @Nested(() => RecallRootDto, { each: true })
  batches: RecallRootDto[];
}

const QUANTITY = { allowNaN: false, allowInfinity: false };

export class AcknowledgementDto {
  @ApiProperty({ example: '8765cc77-b133-4213-9cf9-0d507dcd2340', format: 'uuid', description: 'A batch in the recall scope that the caller holds' })
  @IsUUID()
  batchId: string;

  @ApiProperty({ example: 450, minimum: 0, description: 'Quantity taken back, in the batch unit' })
  @IsNumber(QUANTITY)
  @Min(0)
  recovered: number;

  @ApiProperty({ example: 0, minimum: 0, description: 'Quantity destroyed, in the batch unit' })
  @IsNumber(QUANTITY)
  @Min(0)
  destroyed: number;

  @ApiProperty({ example: 50, minimum: 0, description: 'Quantity already sold on (out of reach), in the batch unit' })
  @IsNumber(QUANTITY)
  @Min(0)
  sold: number;
}
