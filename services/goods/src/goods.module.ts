import { Module } from '@nestjs/common';
import { DomainServiceModule } from '@trace/trace-service';
import { goodsRulesFromEnv } from './goods.rules';

/** The goods domain: the shared trace-chain core; CCC certificate numbers for the categories in GOODS_CCC_CATEGORIES. */
@Module({ imports: [DomainServiceModule.forDomain('goods', { rules: goodsRulesFromEnv() })] })
export class GoodsModule {}
