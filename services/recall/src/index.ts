export * from './recall.module';
export { RecallScopeFollower, RecallService } from './recalls';
export { ANY_SUBSCRIBED, WEBHOOK_MIGRATIONS, WebhookDeliveryWorker, WebhookService, signBody, verifySignature } from './webhooks';
