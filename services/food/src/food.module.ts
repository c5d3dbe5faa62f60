import { Module } from '@nestjs/common';
import { DomainServiceModule } from '@trace/trace-service';
import { foodRules } from './food.rules';

/** The food domain: the shared trace-chain core; ingredients come from agri or food batches. */
@Module({ imports: [DomainServiceModule.forDomain('food', { rules: foodRules() })] })
export class FoodModule {}
