import 'reflect-metadata';
import { runService } from '@trace/messaging';
import { GoodsModule } from './goods.module';

void runService('goods', GoodsModule);
