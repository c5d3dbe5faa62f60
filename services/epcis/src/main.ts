import 'reflect-metadata';
import { runService } from '@trace/messaging';
import { EpcisModule } from './epcis.module';

// Distributed mode: the domain services answer at AGRI_URL … GOODS_URL (capture writes and query fan-out).
void runService('epcis', [EpcisModule]);
