import { Global, Module } from '@nestjs/common';
import { ServiceRuntimeModule } from '@trace/messaging';
import { LINEAGE_SCOPE } from '@trace/platform';
import { LineageIndex } from './lineage-index';
import { LineageProjector } from './lineage.projector';
import { LINEAGE_MIGRATIONS } from './migrations';
import { LineageScopeController } from './scope.controller';
import { LineageScopeQuery } from './scope.query';
import { TraceController } from './trace.controller';
import { TraceQuery } from './trace.query';

/**
 * The cross-domain read model: consumes batch events of every domain, answers traces from memory.
 * Global so that LINEAGE_SCOPE (recall scopes) reaches the recall module hosted in the same process;
 * services running without this module import LineageScopeClientModule instead.
 */
@Global()
@Module({
  imports: [ServiceRuntimeModule.forService({ service: 'lineage', migrations: LINEAGE_MIGRATIONS })],
  controllers: [TraceController, LineageScopeController],
  providers: [LineageIndex, LineageProjector, TraceQuery, LineageScopeQuery, { provide: LINEAGE_SCOPE, useExisting: LineageScopeQuery }],
  exports: [LineageIndex, TraceQuery, LINEAGE_SCOPE],
})
export class LineageModule {}
