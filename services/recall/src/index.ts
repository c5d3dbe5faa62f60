export * from './recall.module';
