import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LOGGER, type Logger, type Principal } from '@trace/platform';
import { BatchService } from '../batch.service';
import { ABANDONED_AFTER_SECONDS, ImportJobStore, zeroCounts, type ImportJobRow, type RowError } from './import-jobs.store';
import { importRow } from './import-row';
import { parseSheet } from './parse-sheet';

/** How often progress is written (and the job's heartbeat beaten): every this many rows, or this often. */
const PROGRESS_ROWS = 25;
const PROGRESS_MS = 500;

/**
 * Runs import jobs in this process, one row after the other, writing progress
 * as it goes. A job whose process died (no heartbeat for a minute) is taken
 * over by any process of the domain and run again from its first row: rows
 * are idempotent, so what was done is reported as existing.
 */
@Injectable()
export class ImportRunner implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private readonly running = new Map<string, Promise<void>>();
  private stopping = false;

  constructor(
    @Inject(ImportJobStore) private readonly jobs: ImportJobStore,
    @Inject(BatchService) private readonly batches: BatchService,
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  onApplicationBootstrap(): void {
    const adopt = () =>
      this.jobs
        .claimAbandoned()
        .then((jobs) => jobs.forEach((j) => this.start(j)))
        .catch((err) => this.log.warn({ err }, 'import jobs: could not look for abandoned jobs'));
    void adopt();
    this.timer = setInterval(adopt, ABANDONED_AFTER_SECONDS * 1000);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    // A job cut short here is adopted again after its heartbeat goes stale.
    await Promise.allSettled([...this.running.values()]);
  }

  /** Starts a job in the background (its progress is read with GET …/imports/{id}). */
  start(job: ImportJobRow): void {
    if (this.running.has(job.id)) return;
    const run = this.run(job)
      .catch(async (err) => {
        this.log.error({ err, importId: job.id }, 'import job failed');
        await this.jobs.finish(job.id, 'failed', (err as Error).message).catch(() => undefined);
      })
      .finally(() => this.running.delete(job.id));
    this.running.set(job.id, run);
  }

  private async run(job: ImportJobRow): Promise<void> {
    const principal: Principal = { orgId: job.org_id, clientId: job.client_id, role: job.role };
    const sheet = await parseSheet(job.format, job.content);
    const counts = zeroCounts();
    // Cells that cannot become text (an Excel date) fail their row before it is tried.
    let pending: RowError[] = sheet.problems.map((p) => ({ row: p.row, type: 'validation', status: 400, detail: `${p.field}: ${p.message}`, errors: [{ field: p.field, message: p.message }] }));
    const badRows = new Set(pending.map((e) => e.row));
    counts.failedRows = badRows.size;
    let processed = 0;
    let lastWrite = Date.now();
    for (const row of sheet.rows) {
      if (this.stopping) return;
      if (!badRows.has(row.row)) {
        const outcome = await importRow({ batches: this.batches, ds: this.ds }, row, principal);
        if ('error' in outcome) {
          counts.failedRows++;
          pending.push(outcome.error);
        } else {
          if (outcome.product === 'created') counts.productsCreated++;
          if (outcome.product === 'exists') counts.productsExisting++;
          if (outcome.batch === 'created') counts.batchesCreated++;
          if (outcome.batch === 'exists') counts.batchesExisting++;
        }
      }
      processed++;
      if (processed % PROGRESS_ROWS === 0 || Date.now() - lastWrite >= PROGRESS_MS) {
        await this.jobs.progress(job.id, processed, counts, pending);
        pending = [];
        lastWrite = Date.now();
      }
    }
    await this.jobs.progress(job.id, processed, counts, pending);
    await this.jobs.finish(job.id, 'completed');
  }
}
