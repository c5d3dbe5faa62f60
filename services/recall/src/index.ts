export * from './recall.module';
export { RecallScopeFollower, RecallService } from './recalls';
