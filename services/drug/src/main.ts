import 'reflect-metadata';
import { runDomainService } from '@trace/trace-service';
import { DrugModule } from './drug.module';

void runDomainService('drug', DrugModule);
