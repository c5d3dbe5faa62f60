import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, type Logger } from '@trace/platform';
import { PeriodicTask } from '../periodic';
import { RECALL_OPTIONS, type RecallOptions } from './options';
import { RecallService } from './recall.service';

/** Keeps every active recall's scope up with lineage, every RECALL_SCOPE_FOLLOW_MS (see RecallService.followScope). */
@Injectable()
export class RecallScopeFollower extends PeriodicTask {
  constructor(
    @Inject(RecallService) private readonly recalls: RecallService,
    @Inject(RECALL_OPTIONS) options: RecallOptions,
    @Inject(LOGGER) logger: Logger,
  ) {
    super(logger, options.followIntervalMs, 'batches joined the scope of active recalls');
  }

  protected run(): Promise<number> {
    return this.recalls.followAll();
  }
}
