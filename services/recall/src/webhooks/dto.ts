import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsString, IsUrl, MaxLength } from 'class-validator';
import { WEBHOOK_EVENTS, type WebhookEvent } from './events';

export class CreateWebhookDto {
  @ApiProperty({
    example: 'https://erp.example.com/hooks/trace',
    description:
      'http or https. Refused (400 webhook-url-refused) when the host resolves to a loopback or private address (unless the deployment sets ' +
      'WEBHOOK_ALLOW_PRIVATE=true), and always when it resolves to a link-local or cloud-metadata address (169.254.0.0/16, fe80::/10).',
  })
  @IsString()
  @MaxLength(2000)
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false, allow_underscores: true })
  url: string;

  @ApiProperty({
    enum: WEBHOOK_EVENTS,
    isArray: true,
    example: ['recall.started', 'recall.closed'],
    description: `The events to hear. risk.warning is planned (the supervision section's risk warnings): accepted, nothing is sent for it yet.`,
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(WEBHOOK_EVENTS.length)
  @ArrayUnique()
  @IsIn(WEBHOOK_EVENTS, { each: true })
  events: WebhookEvent[];
}
