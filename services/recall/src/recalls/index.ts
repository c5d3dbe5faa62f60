import type { Provider } from '@nestjs/common';
import { RECALL_DEADLINES, recallDeadlines } from './deadlines';
import { CaseRecallController, RecallController } from './recall.controller';
import { RecallService } from './recall.service';

export { RECALLS_MIGRATIONS } from './migrations';
export { RecallService } from './recall.service';

export const RECALLS_CONTROLLERS = [RecallController, CaseRecallController];
export const RECALLS_PROVIDERS: Provider[] = [{ provide: RECALL_DEADLINES, useFactory: () => recallDeadlines() }, RecallService];
