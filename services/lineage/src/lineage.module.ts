import { Module } from '@nestjs/common';
import { ServiceRuntimeModule } from '@trace/messaging';
import { LineageIndex } from './lineage-index';
import { LineageProjector } from './lineage.projector';
import { LINEAGE_MIGRATIONS } from './migrations';
import { TraceController } from './trace.controller';
import { TraceQuery } from './trace.query';

/** The cross-domain read model: consumes batch events of every domain, answers traces from memory. */
@Module({
  imports: [ServiceRuntimeModule.forService({ service: 'lineage', migrations: LINEAGE_MIGRATIONS })],
  controllers: [TraceController],
  providers: [LineageIndex, LineageProjector, TraceQuery],
  exports: [LineageIndex, TraceQuery],
})
export class LineageModule {}
