export * from './lineage.module';
export * from './lineage-graph';
export * from './lineage-index';
export * from './trace.query';
export { LINEAGE_MIGRATIONS } from './migrations';
