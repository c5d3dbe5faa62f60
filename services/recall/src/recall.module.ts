import { Module } from '@nestjs/common';
import { ServiceRuntimeModule } from '@trace/messaging';
import { CaseController } from './case.controller';
import { CaseProjector } from './case.projector';
import { CaseQuery } from './case.query';
import { RECALL_MIGRATIONS } from './migrations';

/**
 * The regulator's service (recalls, cases, incident reports). Cases: it
 * consumes `inspectionRecorded` of every domain and keeps one case per failed
 * sample, open until a passing re-test clears it.
 */
@Module({
  imports: [ServiceRuntimeModule.forService({ service: 'recall', migrations: RECALL_MIGRATIONS })],
  controllers: [CaseController],
  providers: [CaseProjector, CaseQuery],
})
export class RecallModule {}
