export * from './batch.controller';
export * from './batch.service';
export * from './domain-service.module';
export * from './dto';
export * from './migrations';
