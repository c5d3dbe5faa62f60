export * from './batch-registry';
export * from './batch.controller';
export * from './batch.service';
export * from './domain-service.module';
export * from './domains';
export * from './dto';
export * from './migrations';
export * from './rows';
