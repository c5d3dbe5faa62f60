import { Module } from '@nestjs/common';
import { DomainServiceModule } from '@trace/trace-service';

/** The drug domain: the shared trace-chain core; its own rules are added here. */
@Module({ imports: [DomainServiceModule.forDomain('drug')] })
export class DrugModule {}
