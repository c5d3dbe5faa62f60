import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Principal, Role, Upload, UploadFormat } from '@trace/platform';

/** What an import has done so far. */
export interface ImportCounts {
  productsCreated: number;
  productsExisting: number;
  batchesCreated: number;
  batchesExisting: number;
  failedRows: number;
}

export interface RowError {
  row: number;
  type: string;
  status: number;
  detail: string;
  errors?: { field: string; message: string }[];
}

export interface ImportJobRow {
  id: string;
  org_id: string;
  client_id: string;
  role: Role;
  format: UploadFormat;
  content: Buffer;
  status: 'running' | 'completed' | 'failed';
  total: number;
  processed: number;
  counts: Partial<ImportCounts>;
  errors: RowError[];
  failure: string | null;
  created_at: Date;
  finished_at: Date | null;
}

/** Per-row errors kept on a job: enough to fix a spreadsheet, bounded so one bad file cannot grow a row without end. */
export const MAX_ROW_ERRORS = 1_000;
/** A job is another process's while it keeps beating; one silent this long is taken over (its rows are idempotent). */
export const ABANDONED_AFTER_SECONDS = 60;

export const zeroCounts = (): ImportCounts => ({ productsCreated: 0, productsExisting: 0, batchesCreated: 0, batchesExisting: 0, failedRows: 0 });

/** The one writer of `import_jobs`. */
@Injectable()
export class ImportJobStore {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  /**
   * A new running job, or the caller's organisation's job already running
   * the same file (the same file sent twice while the first runs is one job).
   */
  async create(upload: Upload, principal: Principal, total: number): Promise<{ job: ImportJobRow; existing: boolean }> {
    const sha = createHash('sha256').update(upload.format).update('\0').update(upload.content).digest('hex');
    return this.ds.transaction(async (m) => {
      // Serialises two uploads of one file by one organisation (a retried POST).
      await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`import:${principal.orgId}:${sha}`]);
      const [running] = (await m.query(`SELECT * FROM import_jobs WHERE org_id = $1 AND content_sha256 = $2 AND status = 'running' LIMIT 1`, [
        principal.orgId,
        sha,
      ])) as ImportJobRow[];
      if (running) return { job: running, existing: true };
      const [job] = (await m.query(
        `INSERT INTO import_jobs (id, org_id, client_id, role, format, content, content_sha256, status, total, counts)
         VALUES ($1,$2,$3,$4,$5,$6,$7,'running',$8,$9) RETURNING *`,
        [randomUUID(), principal.orgId, principal.clientId, principal.role, upload.format, upload.content, sha, total, zeroCounts()],
      )) as ImportJobRow[];
      return { job, existing: false };
    });
  }

  async get(id: string): Promise<ImportJobRow | undefined> {
    const [row] = (await this.ds.query('SELECT * FROM import_jobs WHERE id = $1', [id])) as ImportJobRow[];
    return row;
  }

  /** Progress so far (and a heartbeat): the rows processed, the counts, the new row errors appended. */
  async progress(id: string, processed: number, counts: ImportCounts, newErrors: RowError[]): Promise<void> {
    await this.ds.query(
      `UPDATE import_jobs SET processed = $2, counts = $3, heartbeat_at = now(),
         errors = CASE WHEN jsonb_array_length(errors) >= $5 THEN errors
                       ELSE errors || (SELECT coalesce(jsonb_agg(e), '[]') FROM (SELECT e FROM jsonb_array_elements($4::jsonb) e LIMIT $5 - jsonb_array_length(errors)) x) END
       WHERE id = $1`,
      [id, processed, counts, JSON.stringify(newErrors), MAX_ROW_ERRORS],
    );
  }

  async finish(id: string, status: 'completed' | 'failed', failure?: string): Promise<void> {
    await this.ds.query(`UPDATE import_jobs SET status = $2, failure = $3, finished_at = now(), heartbeat_at = now() WHERE id = $1`, [id, status, failure ?? null]);
  }

  /** Running jobs nobody has beaten for a while (their process died): claimed by this one, to run again from the start. */
  async claimAbandoned(): Promise<ImportJobRow[]> {
    // TypeORM answers an UPDATE … RETURNING on PostgreSQL as [rows, affected].
    const [rows] = (await this.ds.query(
      `UPDATE import_jobs SET heartbeat_at = now(), processed = 0, counts = $2, errors = '[]'
       WHERE id IN (SELECT id FROM import_jobs WHERE status = 'running' AND heartbeat_at < now() - make_interval(secs => $1) FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [ABANDONED_AFTER_SECONDS, zeroCounts()],
    )) as [ImportJobRow[], number];
    return rows;
  }
}
