import { AgriModule } from '@trace/service-agri';
import { DrugModule } from '@trace/service-drug';
import { EpcisModule } from '@trace/service-epcis';
import { FoodModule } from '@trace/service-food';
import { GatewayModule } from '@trace/service-gateway';
import { GoodsModule } from '@trace/service-goods';
import { LineageModule } from '@trace/service-lineage';
import { MaterialModule } from '@trace/service-material';
import { RecallModule } from '@trace/service-recall';

/** Every service module, as the embedded host runs them in one process. */
export const ALL_SERVICE_MODULES = [
  AgriModule,
  FoodModule,
  DrugModule,
  MaterialModule,
  GoodsModule,
  LineageModule,
  RecallModule,
  EpcisModule,
  GatewayModule,
];
