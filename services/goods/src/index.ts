export * from './goods.module';
export * from './goods.rules';
