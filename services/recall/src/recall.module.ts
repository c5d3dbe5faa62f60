import { Module } from '@nestjs/common';
import { ServiceRuntimeModule } from '@trace/messaging';

/**
 * The regulator's service (recalls, cases, incident reports). For now it owns
 * its schema and event runtime; its endpoints arrive with the recall issue.
 */
@Module({ imports: [ServiceRuntimeModule.forService({ service: 'recall' })] })
export class RecallModule {}
