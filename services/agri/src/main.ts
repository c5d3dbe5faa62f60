import 'reflect-metadata';
import { runDomainService } from '@trace/trace-service';
import { AgriModule } from './agri.module';

void runDomainService('agri', AgriModule);
