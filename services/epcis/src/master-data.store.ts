import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { VocabularyElement } from '@trace/epcis';

/**
 * The one writer and reader of `epcis.master_data`: the vocabulary elements captured documents
 * declare in their headers. Statements are appended, never rewritten: an organisation capturing an
 * element again states it anew, and its latest statement is the one read. Master data is reference
 * data about shared identifiers (locations, steps): every organisation's latest statement is read by
 * every query (each still sees only the events it may see); who stated what stays recorded.
 */
@Injectable()
export class MasterDataStore {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  async record(elements: VocabularyElement[], orgId: string, captureId: string, m: EntityManager | DataSource = this.ds): Promise<void> {
    if (!elements.length) return;
    await m.query(
      `INSERT INTO master_data (vocabulary_type, element_id, attributes, children, org_id, capture_id)
       SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::jsonb[], $5::text[], $6::uuid[])`,
      [
        elements.map((e) => e.type),
        elements.map((e) => e.id),
        elements.map((e) => JSON.stringify(e.attributes)),
        elements.map((e) => JSON.stringify(e.children)),
        elements.map(() => orgId),
        elements.map(() => captureId),
      ],
    );
  }

  /** Every organisation's latest statement of each element of these vocabularies. */
  async current(vocabularies: string[]): Promise<VocabularyElement[]> {
    if (!vocabularies.length) return [];
    const rows = (await this.ds.query(
      `SELECT DISTINCT ON (vocabulary_type, element_id, org_id) vocabulary_type, element_id, attributes, children
         FROM master_data WHERE vocabulary_type = ANY($1)
        ORDER BY vocabulary_type, element_id, org_id, id DESC`,
      [vocabularies],
    )) as { vocabulary_type: string; element_id: string; attributes: Record<string, unknown>; children: string[] }[];
    return rows.map((r) => ({ type: r.vocabulary_type, id: r.element_id, attributes: r.attributes, children: r.children }));
  }
}
