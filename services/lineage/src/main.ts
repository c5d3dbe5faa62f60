import 'reflect-metadata';
import { runService } from '@trace/messaging';
import { LineageModule } from './lineage.module';

void runService('lineage', LineageModule);
