import 'reflect-metadata';
import { runService } from '@trace/messaging';
import { FoodModule } from './food.module';

void runService('food', FoodModule);
