import 'reflect-metadata';
import { runDomainService } from '@trace/trace-service';
import { GoodsModule } from './goods.module';

void runDomainService('goods', GoodsModule);
