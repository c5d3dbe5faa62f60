import { Inject, Injectable } from '@nestjs/common';
import { PLATFORM_CONFIG, REQUEST_BUDGETS, type Budget, type PlatformConfig, type RequestBudgets } from '@trace/platform';

/**
 * SCAN_RATE_LIMIT scans per client address and SCAN_RATE_WINDOW_SECONDS,
 * counted by the shared request budgets: Redis, shared by every gateway
 * instance, when distributed; process memory when embedded.
 */
@Injectable()
export class ScanRateLimiter {
  private readonly budget: Budget;

  constructor(
    @Inject(REQUEST_BUDGETS) private readonly budgets: RequestBudgets,
    @Inject(PLATFORM_CONFIG) config: PlatformConfig,
  ) {
    this.budget = { name: 'scan', limit: config.SCAN_RATE_LIMIT, windowSeconds: config.SCAN_RATE_WINDOW_SECONDS, what: 'scans from this address' };
  }

  /** Counts one request of `client`; throws a 429 problem with Retry-After when the budget is spent. */
  take(client: string): Promise<void> {
    return this.budgets.take(this.budget, client);
  }

  /** take(), synchronous when the count is in process memory (RequestBudgets.takeNow). */
  takeNow(client: string): void | Promise<void> {
    return this.budgets.takeNow(this.budget, client);
  }
}
