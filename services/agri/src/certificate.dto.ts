import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { CERTIFICATE_BASES, STANDARD_COMMITMENTS, type CertificateBasis } from './agri.rules';

export class IssueCertificateDto {
  @ApiProperty({ example: [...STANDARD_COMMITMENTS], description: `What the producer commits to; the standard commitments are ${STANDARD_COMMITMENTS.join(', ')}` })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @MaxLength(200, { each: true })
  commitments: string[];

  @ApiProperty({ example: 'self_test', enum: CERTIFICATE_BASES })
  @IsIn(CERTIFICATE_BASES)
  basis: CertificateBasis;

  @ApiProperty({ example: '+86 138 0013 8000', description: 'Phone number of the responsible producer' })
  @IsString()
  @MaxLength(24)
  contact: string;

  @ApiProperty({ example: 'Shouguang, Shandong' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  origin: string;
}
