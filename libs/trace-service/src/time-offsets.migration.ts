import type { MigrationInterface, QueryRunner } from 'typeorm';

const OFFSET_CHECK = (column: string) => `CHECK (${column} ~ '^[+-][0-9]{2}:[0-9]{2}$')`;

/**
 * The UTC offset each time was written in (`±HH:MM`), beside the instant
 * (timestamptz keeps only the instant): times are given back as their
 * writer wrote them. Null for rows from before offsets were kept and for
 * times the system takes itself; those are given back in UTC.
 */
export class TraceChainTimeOffsets1765000300000 implements MigrationInterface {
  name = 'TraceChainTimeOffsets1765000300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE trace_events ADD COLUMN event_time_offset text ${OFFSET_CHECK('event_time_offset')}`);
    await q.query(`ALTER TABLE batches
      ADD COLUMN produced_at_offset text ${OFFSET_CHECK('produced_at_offset')},
      ADD COLUMN expires_at_offset text ${OFFSET_CHECK('expires_at_offset')}`);
    await q.query(`ALTER TABLE inspections ADD COLUMN sampled_at_offset text ${OFFSET_CHECK('sampled_at_offset')}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE inspections DROP COLUMN sampled_at_offset');
    await q.query('ALTER TABLE batches DROP COLUMN produced_at_offset, DROP COLUMN expires_at_offset');
    await q.query('ALTER TABLE trace_events DROP COLUMN event_time_offset');
  }
}
