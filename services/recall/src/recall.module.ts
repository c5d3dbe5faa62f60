import { Module } from '@nestjs/common';
import { ServiceRuntimeModule } from '@trace/messaging';
import { BatchRegistryModule } from '@trace/trace-service';
import { CaseController } from './case.controller';
import { CaseProjector } from './case.projector';
import { CaseQuery } from './case.query';
import { CloseCase } from './case-resolution';
import { INCIDENT_CONTROLLERS, INCIDENT_MIGRATIONS, INCIDENT_PROVIDERS } from './incidents';
import { RECALL_MIGRATIONS } from './migrations';
import { RECALLS_CONTROLLERS, RECALLS_MIGRATIONS, RECALLS_PROVIDERS } from './recalls';
import { WEBHOOK_CONTROLLERS, WEBHOOK_MIGRATIONS, WEBHOOK_PROVIDERS } from './webhooks';

/**
 * The regulator's service (recalls, cases, incident reports). Cases: it
 * consumes `inspectionRecorded` of every domain and keeps one case per failed
 * sample, open until a passing re-test clears it. Webhooks: it hears its own
 * recall events and delivers them to the subscribed organisations concerned.
 */
@Module({
  imports: [ServiceRuntimeModule.forService({ service: 'recall', migrations: [...RECALL_MIGRATIONS, ...INCIDENT_MIGRATIONS, ...RECALLS_MIGRATIONS, ...WEBHOOK_MIGRATIONS] }), BatchRegistryModule],
  controllers: [CaseController, ...INCIDENT_CONTROLLERS, ...RECALLS_CONTROLLERS, ...WEBHOOK_CONTROLLERS],
  providers: [CaseProjector, CaseQuery, CloseCase, ...INCIDENT_PROVIDERS, ...RECALLS_PROVIDERS, ...WEBHOOK_PROVIDERS],
})
export class RecallModule {}
