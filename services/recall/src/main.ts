import 'reflect-metadata';
import { runService } from '@trace/messaging';
import { LineageScopeClientModule } from '@trace/platform';
import { RecallModule } from './recall.module';

// Distributed mode: recall scopes come from the lineage service (LINEAGE_URL).
void runService('recall', [RecallModule, LineageScopeClientModule.forService('recall')], { require: ['LINEAGE_URL'] });
