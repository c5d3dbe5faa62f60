import { IsOffsetTime, Nested } from '@trace/platform';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { SEVERITIES, type Severity } from './options';

export const INCIDENT_DOMAINS = ['agri', 'food', 'drug', 'material', 'goods'] as const;
export type IncidentDomain = (typeof INCIDENT_DOMAINS)[number];

export class OpenIncidentDto {
  @ApiProperty({ example: 'agri', enum: INCIDENT_DOMAINS })
  @IsIn(INCIDENT_DOMAINS)
  domain: IncidentDomain;

  @ApiProperty({ example: '09506000134352', description: 'GTIN-8/12/13/14; the check digit is verified' })
  @IsString()
  @Matches(/^\d{8}$|^\d{12,14}$/, { message: 'gtin must be 8, 12, 13 or 14 digits' })
  gtin: string;

  @ApiPropertyOptional({ example: 'LOT-2026-001', description: 'Required to find the responsible organisation' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(20)
  lot?: string;

  @ApiProperty({ example: 'minor_injury', enum: SEVERITIES })
  @IsIn(SEVERITIES)
  severity: Severity;

  @ApiProperty({ example: '2026-11-24T10:00:00+08:00', description: 'When the incident happened; not after awareAt' })
  @IsOffsetTime()
  occurredAt: string;

  @ApiProperty({ example: '2026-11-24T15:00:00+08:00', description: 'When the reporter became aware; the deadline counts from here' })
  @IsOffsetTime()
  awareAt: string;

  @ApiProperty({ example: 'Pressure cooker lid burst; one user hospitalised' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(4000)
  description: string;
}

export class FileIncidentReportDto {
  @ApiProperty({ example: 'Seal ring of lot L-42 fails at 80 kPa' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(4000)
  summary: string;

  @ApiProperty({ example: 'Sales of lot L-42 stopped; recall level 2 started' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(4000)
  actions: string;
}

export class CalendarDayDto {
  @ApiProperty({ example: true, description: 'Whether deadlines count this day' })
  @IsBoolean()
  working: boolean;

  @ApiPropertyOptional({ example: 'Adjusted working day (调休)' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  note?: string;
}

export class CalendarEntryDto {
  @ApiProperty({ example: '2027-10-01', description: 'YYYY-MM-DD, within the year loaded' })
  @IsString()
  @MaxLength(10)
  day: string;

  @ApiPropertyOptional({ example: '国庆节 National Day' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  note?: string;
}

export class CalendarYearDto {
  @ApiProperty({ type: [CalendarEntryDto], description: 'Public holidays: not working days (weekend ones may be listed too)' })
  @IsArray()
  @ArrayMaxSize(366)
  @Nested(() => CalendarEntryDto, { each: true })
  holidays: CalendarEntryDto[];

  @ApiProperty({ type: [CalendarEntryDto], description: 'Make-up working days (调休): weekend days worked in exchange for a holiday' })
  @IsArray()
  @ArrayMaxSize(366)
  @Nested(() => CalendarEntryDto, { each: true })
  workingDays: CalendarEntryDto[];
}
