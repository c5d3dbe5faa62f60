import type { Provider } from '@nestjs/common';
import { RECALL_DEADLINES, recallDeadlines } from './deadlines';
import { RECALL_OPTIONS, recallOptions } from './options';
import { CaseRecallController, RecallController } from './recall.controller';
import { RecallListQuery } from './recall-list.query';
import { RecallService } from './recall.service';
import { RecallScopeFollower } from './scope.follower';

export { RECALLS_MIGRATIONS } from './migrations';
export { RecallService } from './recall.service';
export { RecallScopeFollower } from './scope.follower';

export const RECALLS_CONTROLLERS = [RecallController, CaseRecallController];
export const RECALLS_PROVIDERS: Provider[] = [
  { provide: RECALL_DEADLINES, useFactory: () => recallDeadlines() },
  { provide: RECALL_OPTIONS, useFactory: () => recallOptions() },
  RecallService,
  RecallListQuery,
  RecallScopeFollower,
];
