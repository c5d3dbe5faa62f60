export * from './drug.module';
