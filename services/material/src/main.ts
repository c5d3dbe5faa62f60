import 'reflect-metadata';
import { runService } from '@trace/messaging';
import { MaterialModule } from './material.module';

void runService('material', MaterialModule);
