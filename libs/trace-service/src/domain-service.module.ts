import { DynamicModule, Inject, Injectable, Module, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Outbox, ServiceRuntimeModule } from '@trace/messaging';
import { DIRECTORY, type Directory } from '@trace/platform';
import { noDomainRules, type DomainRules } from '@trace/trace-chain';
import { createDomainControllers } from './batch.controller';
import { BatchRegistry, BatchRegistryModule } from './batch-registry';
import { BatchService } from './batch.service';
import type { DomainName } from './domains';
import { TRACE_CHAIN_MIGRATIONS } from './migrations';

export const DOMAIN_RULES = Symbol('DOMAIN_RULES');

@Injectable()
class RegisterLedger implements OnModuleInit {
  constructor(
    @Inject(BatchRegistry) private readonly registry: BatchRegistry,
    @Inject(BatchService) private readonly batches: BatchService,
    @Inject('DOMAIN_NAME') private readonly domain: string,
  ) {}
  onModuleInit() {
    this.registry.register(this.domain, this.batches);
  }
}

/**
 * The shared core of a domain service: its schema, outbox, product, batch
 * and chain endpoints. A domain service module imports this with its own
 * rules and adds only its own endpoints.
 */
@Module({})
export class DomainServiceModule {
  static forDomain(domain: DomainName, rules: DomainRules = noDomainRules(domain)): DynamicModule {
    return {
      module: DomainServiceModule,
      imports: [ServiceRuntimeModule.forService({ service: domain, migrations: TRACE_CHAIN_MIGRATIONS }), BatchRegistryModule],
      controllers: createDomainControllers(domain),
      providers: [
        { provide: 'DOMAIN_NAME', useValue: domain },
        { provide: DOMAIN_RULES, useValue: rules },
        {
          provide: BatchService,
          inject: [DataSource, Outbox, BatchRegistry, DOMAIN_RULES, { token: DIRECTORY, optional: true }],
          useFactory: (ds: DataSource, outbox: Outbox, registry: BatchRegistry, r: DomainRules, directory?: Directory) =>
            new BatchService(domain, ds, outbox, registry, r, directory),
        },
        RegisterLedger,
      ],
      exports: [BatchService, ServiceRuntimeModule, DOMAIN_RULES],
    };
  }
}

