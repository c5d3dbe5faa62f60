import { Module } from '@nestjs/common';
import { ServiceRuntimeModule } from '@trace/messaging';
import { LineageProjector } from './lineage.projector';
import { LineageGraph1764000002000 } from './migrations';
import { TraceController } from './trace.controller';

/** The cross-domain read model: consumes batch events of every domain. */
@Module({
  imports: [ServiceRuntimeModule.forService({ service: 'lineage', migrations: [LineageGraph1764000002000] })],
  controllers: [TraceController],
  providers: [LineageProjector],
})
export class LineageModule {}
