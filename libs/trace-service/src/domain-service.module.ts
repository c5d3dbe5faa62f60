import { DynamicModule, Inject, Injectable, Module, OnModuleInit, type Provider, type Type } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { IDENTITY_CLAIMS, type IdentityClaims } from '@trace/contracts';
import { Outbox, ServiceRuntimeModule } from '@trace/messaging';
import { DIRECTORY, type Directory } from '@trace/platform';
import { noDomainRules, type DomainRules } from '@trace/trace-chain';
import { createDomainControllers } from './batch.controller';
import { BatchRegistry, BatchRegistryModule } from './batch-registry';
import { BatchService, type DomainHooks } from './batch.service';
import { EpcisChainService } from './epcis-ledger';
import { IdentityBackfill } from './identity-backfill';
import type { DomainName } from './domains';
import { HOLDINGS_MIGRATIONS } from './holdings/migrations';
import { TRACE_CHAIN_MIGRATIONS } from './migrations';
import { createCategoryController } from './categories.controller';
import { createQrController } from './qr.controller';
import { createListControllers } from './lists/list.controller';
import { LIST_MIGRATIONS } from './lists/migrations';
import { TraceChainTimeOffsets1765000300000 } from './time-offsets.migration';
import { TraceChainEpcisContext1765500061500 } from './epcis-context.migration';
import { NativeHashBackfill } from './native-hash-backfill';
import { TraceChainNativeEventHashes1765500083700 } from './native-hashes.migration';
import { TraceChainPartnerNames1765600071400 } from './partner-names.migration';
import { RecallHandler } from './recall.handler';
import { createImportController, IMPORT_MIGRATIONS, ImportJobStore, ImportRunner } from './imports';
import {
  createInspectionController,
  INSPECTION_MIGRATIONS,
  INSPECTION_OPTIONS,
  inspectionOptions,
  InspectionService,
  type InspectionOptions,
} from './inspections';

export const DOMAIN_RULES = Symbol('DOMAIN_RULES');

/** What a domain service adds to the shared core. */
export interface DomainServiceOptions {
  rules?: DomainRules;
  /** Facts for the rules and domain records, inside the core's event transaction. */
  hooks?: DomainHooks;
  /** The domain's own tables, in its own schema (TypeORM migrations, names ending in a 13-digit timestamp). */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations?: Function[];
  /** Unique per domain: all five domains share one HTTP server in embedded mode. */
  controllers?: Type<unknown>[];
  providers?: Provider[];
  /** Supervision sampling (re-test window); unset values come from the environment, see inspections/options.ts. */
  inspections?: Partial<InspectionOptions>;
}

@Injectable()
class RegisterLedger implements OnModuleInit {
  constructor(
    @Inject(BatchRegistry) private readonly registry: BatchRegistry,
    @Inject(BatchService) private readonly batches: BatchService,
    @Inject('DOMAIN_NAME') private readonly domain: string,
    @Inject(EpcisChainService) private readonly epcis: EpcisChainService,
  ) {}
  onModuleInit() {
    this.registry.register(this.domain, this.batches);
    this.registry.registerEpcis(this.domain, this.epcis);
  }
}

/**
 * The shared core of a domain service: its schema, outbox, product, batch
 * and chain endpoints. A domain service module imports this with its own
 * rules and adds only its own endpoints.
 */
@Module({})
export class DomainServiceModule {
  static forDomain(domain: DomainName, options: DomainServiceOptions = {}): DynamicModule {
    const rules = options.rules ?? noDomainRules(domain);
    return {
      module: DomainServiceModule,
      imports: [
        ServiceRuntimeModule.forService({ service: domain, migrations: [...TRACE_CHAIN_MIGRATIONS, ...HOLDINGS_MIGRATIONS, ...INSPECTION_MIGRATIONS, TraceChainTimeOffsets1765000300000, ...LIST_MIGRATIONS, ...IMPORT_MIGRATIONS, TraceChainEpcisContext1765500061500, TraceChainNativeEventHashes1765500083700, TraceChainPartnerNames1765600071400, ...(options.migrations ?? [])] }),
        BatchRegistryModule,
      ],
      controllers: [...createDomainControllers(domain), ...createListControllers(domain), createCategoryController(domain, rules), createInspectionController(domain), createQrController(domain), createImportController(domain), ...(options.controllers ?? [])],
      providers: [
        { provide: 'DOMAIN_NAME', useValue: domain },
        { provide: DOMAIN_RULES, useValue: rules },
        {
          provide: BatchService,
          inject: [DataSource, Outbox, BatchRegistry, DOMAIN_RULES, { token: DIRECTORY, optional: true }, { token: IDENTITY_CLAIMS, optional: true }],
          useFactory: (ds: DataSource, outbox: Outbox, registry: BatchRegistry, r: DomainRules, directory?: Directory, claims?: IdentityClaims) =>
            new BatchService(domain, ds, outbox, registry, r, directory, options.hooks, claims),
        },
        {
          provide: EpcisChainService,
          inject: [DataSource, Outbox, DOMAIN_RULES, { token: DIRECTORY, optional: true }, { token: IDENTITY_CLAIMS, optional: true }],
          useFactory: (ds: DataSource, outbox: Outbox, r: DomainRules, directory?: Directory, claims?: IdentityClaims) =>
            new EpcisChainService(domain, ds, outbox, directory, claims, r, options.hooks),
        },
        RegisterLedger,
        IdentityBackfill,
        NativeHashBackfill,
        RecallHandler,
        ImportJobStore,
        ImportRunner,
        { provide: INSPECTION_OPTIONS, useFactory: () => inspectionOptions(domain, options.inspections) },
        {
          provide: InspectionService,
          inject: [DataSource, Outbox, BatchService, INSPECTION_OPTIONS],
          useFactory: (ds: DataSource, outbox: Outbox, batches: BatchService, o: InspectionOptions) =>
            new InspectionService(domain, ds, outbox, batches, o),
        },
        ...(options.providers ?? []),
      ],
      exports: [BatchService, ServiceRuntimeModule, DOMAIN_RULES],
    };
  }
}

