import { Global, Module } from '@nestjs/common';
import { ServiceRuntimeModule } from '@trace/messaging';
import { LINEAGE_SCOPE } from '@trace/contracts';
import { ExportsController } from './exports/exports.controller';
import { FsmaProjector } from './exports/fsma.projector';
import { FsmaExportQuery } from './exports/fsma.query';
import { LineageIndex } from './lineage-index';
import { IncomingShipmentsController, SearchController } from './lists/lists.controller';
import { LineageListQuery } from './lists/lists.query';
import { LineageProjector } from './lineage.projector';
import { LINEAGE_MIGRATIONS } from './migrations';
import { LineageScopeController } from './scope.controller';
import { LineageScopeQuery } from './scope.query';
import { TraceController } from './trace.controller';
import { TraceNames } from './trace-names';
import { TraceQuery } from './trace.query';

/**
 * The cross-domain read model: consumes batch events of every domain, answers traces from memory,
 * and exports a lot's FSMA 204 records (needs DIRECTORY: the gateway module in-process, else DirectoryClientModule).
 * Global so that LINEAGE_SCOPE (recall scopes) reaches the recall module hosted in the same process;
 * services running without this module import LineageScopeClientModule instead.
 */
@Global()
@Module({
  imports: [ServiceRuntimeModule.forService({ service: 'lineage', migrations: LINEAGE_MIGRATIONS })],
  controllers: [TraceController, LineageScopeController, ExportsController, SearchController, IncomingShipmentsController],
  providers: [
    LineageIndex,
    LineageProjector,
    TraceQuery,
    TraceNames,
    LineageScopeQuery,
    LineageListQuery,
    { provide: LINEAGE_SCOPE, useExisting: LineageScopeQuery },
    // FSMA 204 export (services/lineage/src/exports): its read model is fed by the same inbox; names come from DIRECTORY.
    FsmaProjector,
    FsmaExportQuery,
  ],
  exports: [LineageIndex, TraceQuery, LINEAGE_SCOPE],
})
export class LineageModule {}
