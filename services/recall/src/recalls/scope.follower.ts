import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, PeriodicTask, type Logger } from '@trace/platform';
import { RECALL_OPTIONS, type RecallOptions } from './options';
import { RecallService } from './recall.service';

/**
 * Keeps every active recall's scope up with lineage, every RECALL_SCOPE_FOLLOW_MS
 * (see RecallService.followAll). With no active recall it looks every
 * IDLE_FOLLOW_MS instead (one statement), and a recall started here wakes it.
 */
/** With no active recall: a recall started on another replica is that replica's to follow; this is for one whose replica stopped. */
const IDLE_FOLLOW_MS = 30_000;

@Injectable()
export class RecallScopeFollower extends PeriodicTask {
  constructor(
    @Inject(RecallService) private readonly recalls: RecallService,
    @Inject(RECALL_OPTIONS) options: RecallOptions,
    @Inject(LOGGER) logger: Logger,
  ) {
    super(logger, options.followIntervalMs, 'batches joined the scope of active recalls', Math.max(options.followIntervalMs, IDLE_FOLLOW_MS));
    recalls.onStarted(() => this.wake());
  }

  protected async run(): Promise<number> {
    try {
      return await this.recalls.followAll();
    } finally {
      this.idle = this.recalls.activeRecalls === 0;
    }
  }
}
