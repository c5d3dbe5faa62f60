import { Module } from '@nestjs/common';
import { DomainServiceModule } from '@trace/trace-service';
import { DrugBatchExtrasController, DrugCodeController } from './drug.controllers';
import { drugRulesFromEnv } from './drug.rules';
import { drugHooks, DrugService } from './drug.service';
import { DRUG_MIGRATIONS } from './migrations';

/**
 * The drug domain: the shared trace-chain core plus unit codes (register,
 * verify, dispense once) and batch release (批签发) before a vaccine batch
 * (DRUG_RELEASE_CATEGORIES) moves to market.
 */
@Module({
  imports: [
    DomainServiceModule.forDomain('drug', {
      rules: drugRulesFromEnv(),
      hooks: drugHooks,
      migrations: DRUG_MIGRATIONS,
      controllers: [DrugBatchExtrasController, DrugCodeController],
      providers: [DrugService],
    }),
  ],
})
export class DrugModule {}
