export * from './recall.module';
export { RecallScopeFollower, RecallService } from './recalls';
export { WebhookDeliveryWorker, signBody, verifySignature } from './webhooks';
