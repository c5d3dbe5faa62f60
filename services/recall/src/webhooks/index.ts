import type { Provider } from '@nestjs/common';
import { WebhookDeliveryWorker } from './delivery.worker';
import { WEBHOOK_OPTIONS, webhookOptions } from '@trace/platform';
import { WebhookController } from './webhook.controller';
import { WebhookNotifier } from './webhook.notifier';
import { WebhookService } from './webhook.service';

export { WEBHOOK_MIGRATIONS } from './migrations';
export { WebhookDeliveryWorker } from './delivery.worker';
export { ANY_SUBSCRIBED } from './webhook.notifier';
export { WebhookService } from './webhook.service';
export { signBody, verifySignature } from '@trace/platform';

export const WEBHOOK_CONTROLLERS = [WebhookController];
export const WEBHOOK_PROVIDERS: Provider[] = [
  { provide: WEBHOOK_OPTIONS, useFactory: () => webhookOptions() },
  WebhookService,
  WebhookNotifier,
  WebhookDeliveryWorker,
];
