import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Bulk imports (POST /v1/{domain}/imports): one row per job with the file
 * itself (so a job the process did not finish is resumed from it), who sent
 * it (every row is registered as that caller), progress and per-row errors.
 */
export class TraceChainImportJobs1765300021000 implements MigrationInterface {
  name = 'TraceChainImportJobs1765300021000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE import_jobs (
        id uuid PRIMARY KEY,
        org_id text NOT NULL,
        client_id text NOT NULL,
        role text NOT NULL,
        format text NOT NULL CHECK (format IN ('csv', 'xlsx')),
        content bytea NOT NULL,
        content_sha256 char(64) NOT NULL,
        status text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
        total integer NOT NULL,
        processed integer NOT NULL DEFAULT 0,
        counts jsonb NOT NULL DEFAULT '{}',
        errors jsonb NOT NULL DEFAULT '[]',
        failure text,
        created_at timestamptz NOT NULL DEFAULT now(),
        heartbeat_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`);
    await q.query(`CREATE INDEX import_jobs_running_idx ON import_jobs (heartbeat_at) WHERE status = 'running'`);
    await q.query(`CREATE INDEX import_jobs_org_sha_idx ON import_jobs (org_id, content_sha256) WHERE status = 'running'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE import_jobs');
  }
}

export const IMPORT_MIGRATIONS = [TraceChainImportJobs1765300021000];
