export * from './drug.module';
export * from './drug.rules';
