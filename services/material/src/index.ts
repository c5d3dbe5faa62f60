export * from './material.module';
export * from './material.rules';
