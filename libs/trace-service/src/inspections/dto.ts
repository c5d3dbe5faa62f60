import { IsOffsetTime, Nested } from '@trace/platform';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  ValidateBy,
  type ValidationOptions,
} from 'class-validator';

export const RESULTS = ['pass', 'fail'] as const;
export type InspectionResult = (typeof RESULTS)[number];

/** A measured value or a limit: a finite number, or a short text such as "≤0.05" or "not detected". */
function IsMeasurement(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isMeasurement',
      validator: {
        validate: (v: unknown) =>
          (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.trim().length > 0 && v.length <= 64),
        defaultMessage: () => '$property must be a finite number or a non-empty text of at most 64 characters',
      },
    },
    options,
  );
}

export class InspectionItemDto {
  @ApiProperty({ example: 'chlorpyrifos residue' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;

  @ApiProperty({ oneOf: [{ type: 'number' }, { type: 'string' }], example: 0.12 })
  @IsMeasurement()
  value: number | string;

  @ApiProperty({ example: 'mg/kg', description: 'May be empty for a qualitative item' })
  @IsString()
  @MaxLength(32)
  unit: string;

  @ApiProperty({ oneOf: [{ type: 'number' }, { type: 'string' }], example: 0.05, description: 'The limit of the standard' })
  @IsMeasurement()
  limit: number | string;

  @ApiProperty({ example: 'fail', enum: RESULTS })
  @IsIn(RESULTS)
  result: InspectionResult;
}

export class RecordInspectionDto {
  @ApiProperty({ example: 'SJ-2026-AG-0042', description: 'The test report number; unique within the domain' })
  @IsString()
  @Matches(/^[\x21-\x7e\u00a0-\uffff][\x20-\x7e\u00a0-\uffff]{0,63}$/, {
    message: 'reportNo must be 1-64 printable characters, not starting with a space',
  })
  reportNo: string;

  @ApiProperty({ example: '2026-03-01T09:30:00+08:00', description: 'When the sample was taken; not in the future' })
  @IsOffsetTime()
  sampledAt: string;

  @ApiProperty({ example: 'Provincial Agricultural Product Quality Inspection Centre' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  agency: string;

  @ApiProperty({ type: [InspectionItemDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(200)
  @Nested(() => InspectionItemDto, { each: true })
  items: InspectionItemDto[];

  @ApiProperty({ example: 'fail', enum: RESULTS, description: 'Must be "fail" when any item fails, and "pass" when none does' })
  @IsIn(RESULTS)
  conclusion: InspectionResult;

  @ApiPropertyOptional({ example: '3d9415ae-ca68-4b6a-baf2-1974091b41b6', format: 'uuid', description: 'The failed inspection of this batch that this one re-tests' })
  @IsOptional()
  @IsUUID('4')
  retestOf?: string;
}

export class InspectionRecordedDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ enum: RESULTS })
  conclusion: InspectionResult;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'After a fail: until when a passing re-test may clear the hold; null after a pass',
  })
  retestDeadline: string | null;

  @ApiProperty({ enum: ['active', 'held', 'recalled'], description: 'The batch status after this result' })
  batchStatus: string;

  @ApiProperty({ format: 'uuid', description: 'The inspecting event on the batch chain' })
  eventId: string;
}
