import 'reflect-metadata';
import { runDomainService } from '@trace/trace-service';
import { FoodModule } from './food.module';

void runDomainService('food', FoodModule);
