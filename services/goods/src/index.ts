export * from './goods.module';
