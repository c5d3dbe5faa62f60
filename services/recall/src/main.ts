import 'reflect-metadata';
import { runService } from '@trace/messaging';
import { RecallModule } from './recall.module';

void runService('recall', RecallModule);
