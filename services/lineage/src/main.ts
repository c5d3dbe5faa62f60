import 'reflect-metadata';
import { runService } from '@trace/messaging';
import { DirectoryClientModule } from '@trace/platform';
import { LineageModule } from './lineage.module';

// Distributed mode: the FSMA 204 export names locations and organisations from the gateway (IDENTITY_URL).
void runService('lineage', [LineageModule, DirectoryClientModule.forService('lineage')], { require: ['IDENTITY_URL'] });
