import { Module } from '@nestjs/common';
import { ServiceRuntimeModule } from '@trace/messaging';
import { WEBHOOK_OPTIONS, webhookOptions } from '@trace/platform';
import { BatchRegistryModule } from '@trace/trace-service';
import { ChainWrites } from './chain-writes';
import { CaptureController, EventsController, TopLevelController } from './epcis.controller';
import { CaptureService } from './capture.service';
import { MasterDataStore } from './master-data.store';
import { EPCIS_MIGRATIONS } from './migrations';
import { NamedQueryService } from './named-query.service';
import { QueriesController } from './queries.controller';
import { QueryService } from './query.service';
import { SubscriptionService } from './subscription.service';
import { SubscriptionDeliveryRetention } from './subscription-delivery-retention';
import { SubscriptionDeliveryWorker } from './subscription.worker';
import { SubscriptionsController } from './subscriptions.controller';
import { WebSocketSubscriptions } from './websocket-subscriptions';
import { XsdValidation } from './xsd-validation';

/**
 * EPCIS 2.0 capture and query (JSON/JSON-LD binding). It owns capture jobs and
 * the events that name no batch; every other event lives on the trace chains
 * of the domain services, reached through the BatchRegistry (in-process when
 * embedded, over HTTP in distributed mode), so one code path serves both.
 */
@Module({
  imports: [ServiceRuntimeModule.forService({ service: 'epcis', migrations: EPCIS_MIGRATIONS }), BatchRegistryModule],
  // TopLevelController last: its /v1/epcis/:resource must not shadow /capture, /events and /queries.
  controllers: [CaptureController, EventsController, SubscriptionsController, QueriesController, TopLevelController],
  providers: [
    CaptureService,
    QueryService,
    MasterDataStore,
    NamedQueryService,
    XsdValidation,
    { provide: WEBHOOK_OPTIONS, useFactory: () => webhookOptions() },
    ChainWrites,
    SubscriptionService,
    SubscriptionDeliveryWorker,
    SubscriptionDeliveryRetention,
    WebSocketSubscriptions,
  ],
})
export class EpcisModule {}
