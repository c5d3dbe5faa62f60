import { Module } from '@nestjs/common';
import { DomainServiceModule } from '@trace/trace-service';

/** The agri domain: the shared trace-chain core; its own rules are added here. */
@Module({ imports: [DomainServiceModule.forDomain('agri')] })
export class AgriModule {}
