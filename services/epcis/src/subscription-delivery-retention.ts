import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { deleteInChunks, LOGGER, PeriodicTask, PLATFORM_CONFIG, RETENTION_EVERY_MS, RETENTION_FIRST_AFTER_MS, type Logger, type PlatformConfig } from '@trace/platform';

/** Rows one statement deletes at most: short transactions beside the worker's. */
const CHUNK = 5_000;

/**
 * Deletes the EPCIS subscription deliveries that are done (sent, or given up after the retries) and older than
 * SUBSCRIPTION_DELIVERY_RETENTION_HOURS, hourly, the first time ten minutes after start. Each delivery holds the
 * whole document it sent, so a busy stream subscription would otherwise store a second copy of every event it
 * matched, for ever. A delivery still pending is never deleted, however old. The old rows are found through a
 * BRIN index on created_at (the table only grows at its end in time); replicas pruning at once delete each
 * row once.
 */
@Injectable()
export class SubscriptionDeliveryRetention extends PeriodicTask {
  private readonly keepMs: number;

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(PLATFORM_CONFIG) config: PlatformConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    const keepMs = config.SUBSCRIPTION_DELIVERY_RETENTION_HOURS * 3_600_000;
    super(logger, keepMs > 0 ? RETENTION_EVERY_MS : 0, 'old EPCIS subscription deliveries deleted', RETENTION_EVERY_MS, RETENTION_FIRST_AFTER_MS);
    this.keepMs = keepMs;
  }

  protected async run(): Promise<number> {
    if (!this.ds.isInitialized || this.keepMs <= 0) return 0;
    return deleteInChunks(
      async () =>
        (
          (await this.ds.query(
            `DELETE FROM query_subscription_deliveries
              WHERE id = ANY(ARRAY(SELECT id FROM query_subscription_deliveries
                                    WHERE created_at < now() - $1 * interval '1 millisecond' AND status <> 'pending' LIMIT $2))`,
            [this.keepMs, CHUNK],
          )) as [unknown, number]
        )[1],
      CHUNK,
    );
  }
}
