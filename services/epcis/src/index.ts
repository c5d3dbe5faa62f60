export * from './epcis.module';
export * from './xsd-validation';
// For the integration tests that reach into the running app (t.app.get(…)).
export { QueryService } from './query.service';
export { WebSocketSubscriptions } from './websocket-subscriptions';
export { LOOK_HORIZON, CAPTURES_MOVED_AT } from './subscription-controls';
export { LEASE_DUE_SUBSCRIPTIONS } from './subscription.worker';
export { SubscriptionDeliveryRetention } from './subscription-delivery-retention';
