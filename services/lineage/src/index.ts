export * from './lineage.module';
