import 'reflect-metadata';
import { runDomainService } from '@trace/trace-service';
import { MaterialModule } from './material.module';

void runDomainService('material', MaterialModule);
