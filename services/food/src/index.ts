export * from './food.module';
export * from './food.rules';
