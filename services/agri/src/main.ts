import 'reflect-metadata';
import { runService } from '@trace/messaging';
import { AgriModule } from './agri.module';

void runService('agri', AgriModule);
