import { DynamicModule, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Outbox, ServiceRuntimeModule } from '@trace/messaging';
import { createBatchController } from './batch.controller';
import { BatchService, type DomainName } from './batch.service';
import { TRACE_CHAIN_MIGRATIONS } from './migrations';

/**
 * The shared core of a domain service: its schema, outbox, batch endpoints.
 * A domain service module imports this and adds only its own rules.
 */
@Module({})
export class DomainServiceModule {
  static forDomain(domain: DomainName): DynamicModule {
    return {
      module: DomainServiceModule,
      imports: [ServiceRuntimeModule.forService({ service: domain, migrations: TRACE_CHAIN_MIGRATIONS })],
      controllers: [createBatchController(domain)],
      providers: [
        {
          provide: BatchService,
          inject: [DataSource, Outbox],
          useFactory: (ds: DataSource, outbox: Outbox) => new BatchService(domain, ds, outbox),
        },
      ],
      exports: [BatchService, ServiceRuntimeModule],
    };
  }
}
