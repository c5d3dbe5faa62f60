import 'reflect-metadata';
import { runService } from '@trace/messaging';
import { DrugModule } from './drug.module';

void runService('drug', DrugModule);
