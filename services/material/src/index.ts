export * from './material.module';
