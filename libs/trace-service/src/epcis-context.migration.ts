import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The @context entries a captured event was captured with (the namespaces its extension names use,
 * see EventContext in libs/epcis), so answers declare them as they were. Outside the hashed content:
 * links keep hashing as before; the content's CBV event hash (`epcisHash`, covered by the link hash)
 * was computed with these namespaces, so a changed one no longer reproduces it. Null for events
 * recorded over REST and for those captured before contexts were kept.
 */
export class TraceChainEpcisContext1765500061500 implements MigrationInterface {
  name = 'TraceChainEpcisContext1765500061500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE trace_events ADD COLUMN epcis_context jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE trace_events DROP COLUMN epcis_context');
  }
}
