export * from './food.module';
