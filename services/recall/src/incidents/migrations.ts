import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Public holidays (off) and adjusted working weekend days (调休, on) of the
 * People's Republic of China, as the State Council's annual notices set them.
 *
 * *(verify)* The official notice texts were not at hand when this was written:
 * 2026 follows the notice as recalled (国务院办公厅关于2026年部分节假日安排的通知),
 * 2027 is PROVISIONAL, derived from the lunar dates and the usual pattern.
 * Both must be checked against the published notices and corrected through
 * `PUT /v1/calendar/{date}` (or a follow-up migration) — that is why the
 * calendar is data.
 */
export const CN_CALENDAR_SEED: readonly { day: string; working: boolean; note: string }[] = [
  // ---- 2026 *(verify)* ----
  ...range('2026-01-01', '2026-01-03', false, 'New Year (元旦) 2026 (verify)'),
  { day: '2026-01-04', working: true, note: 'Adjusted working day (调休) for New Year 2026 (verify)' },
  { day: '2026-02-14', working: true, note: 'Adjusted working day (调休) for Spring Festival 2026 (verify)' },
  ...range('2026-02-15', '2026-02-23', false, 'Spring Festival (春节) 2026 (verify)'),
  { day: '2026-02-28', working: true, note: 'Adjusted working day (调休) for Spring Festival 2026 (verify)' },
  ...range('2026-04-04', '2026-04-06', false, 'Qingming (清明节) 2026 (verify)'),
  ...range('2026-05-01', '2026-05-05', false, 'Labour Day (劳动节) 2026 (verify)'),
  { day: '2026-05-09', working: true, note: 'Adjusted working day (调休) for Labour Day 2026 (verify)' },
  ...range('2026-06-19', '2026-06-21', false, 'Dragon Boat (端午节) 2026 (verify)'),
  { day: '2026-09-20', working: true, note: 'Adjusted working day (调休) for National Day 2026 (verify)' },
  ...range('2026-09-25', '2026-09-27', false, 'Mid-Autumn (中秋节) 2026 (verify)'),
  ...range('2026-10-01', '2026-10-07', false, 'National Day (国庆节) 2026 (verify)'),
  { day: '2026-10-10', working: true, note: 'Adjusted working day (调休) for National Day 2026 (verify)' },
  // ---- 2027 PROVISIONAL *(verify)* ----
  ...range('2027-01-01', '2027-01-03', false, 'New Year (元旦) 2027 (provisional, verify)'),
  { day: '2027-01-31', working: true, note: 'Adjusted working day (调休) for Spring Festival 2027 (provisional, verify)' },
  ...range('2027-02-05', '2027-02-13', false, 'Spring Festival (春节) 2027 (provisional, verify)'),
  { day: '2027-02-20', working: true, note: 'Adjusted working day (调休) for Spring Festival 2027 (provisional, verify)' },
  ...range('2027-04-03', '2027-04-05', false, 'Qingming (清明节) 2027 (provisional, verify)'),
  ...range('2027-05-01', '2027-05-05', false, 'Labour Day (劳动节) 2027 (provisional, verify)'),
  { day: '2027-05-08', working: true, note: 'Adjusted working day (调休) for Labour Day 2027 (provisional, verify)' },
  { day: '2027-06-09', working: false, note: 'Dragon Boat (端午节) 2027 (provisional, verify)' },
  { day: '2027-09-15', working: false, note: 'Mid-Autumn (中秋节) 2027 (provisional, verify)' },
  { day: '2027-09-26', working: true, note: 'Adjusted working day (调休) for National Day 2027 (provisional, verify)' },
  ...range('2027-10-01', '2027-10-07', false, 'National Day (国庆节) 2027 (provisional, verify)'),
  { day: '2027-10-09', working: true, note: 'Adjusted working day (调休) for National Day 2027 (provisional, verify)' },
];

function range(from: string, to: string, working: boolean, note: string) {
  const out: { day: string; working: boolean; note: string }[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) {
    out.push({ day: new Date(t).toISOString().slice(0, 10), working, note });
  }
  return out;
}

/**
 * Mandatory incident reports (DOMAIN.md §8) and the working-day calendar
 * their deadlines are counted on. The calendar holds every day of 2026–2027
 * (weekends off, then the holidays and 调休 above); days outside it count as
 * Mon–Fri working days.
 */
export class RecallIncidents1764000020000 implements MigrationInterface {
  name = 'RecallIncidents1764000020000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE calendar_days (
        day        date PRIMARY KEY,
        working    boolean NOT NULL,
        note       text,
        updated_at timestamptz NOT NULL DEFAULT now(),
        updated_by text
      )`);
    await q.query(`
      INSERT INTO calendar_days (day, working, note)
      SELECT d::date, EXTRACT(ISODOW FROM d) < 6, CASE WHEN EXTRACT(ISODOW FROM d) < 6 THEN NULL ELSE 'weekend' END
        FROM generate_series('2026-01-01'::date, '2027-12-31'::date, interval '1 day') AS d`);
    await q.query(
      `INSERT INTO calendar_days (day, working, note)
       SELECT * FROM unnest($1::date[], $2::boolean[], $3::text[])
       ON CONFLICT (day) DO UPDATE SET working = EXCLUDED.working, note = EXCLUDED.note`,
      [CN_CALENDAR_SEED.map((d) => d.day), CN_CALENDAR_SEED.map((d) => d.working), CN_CALENDAR_SEED.map((d) => d.note)],
    );
    await q.query(`
      CREATE TABLE incidents (
        id                    uuid PRIMARY KEY,
        domain                text NOT NULL CHECK (domain IN ('agri', 'food', 'drug', 'material', 'goods')),
        gtin                  text NOT NULL,
        lot                   text NOT NULL,
        batch_id              uuid NOT NULL,
        product_name          text,
        severity              text NOT NULL CHECK (severity IN ('death', 'serious_injury', 'minor_injury', 'property_loss', 'other')),
        occurred_at           timestamptz NOT NULL,
        aware_at              timestamptz NOT NULL,
        description           text NOT NULL,
        reporter_org_id       text NOT NULL,
        reporter_client_id    text NOT NULL,
        responsible_org_id    text NOT NULL,
        report_working_days   integer NOT NULL,
        report_due_by         timestamptz NOT NULL,
        status                text NOT NULL CHECK (status IN ('awaiting_report', 'overdue', 'reported', 'reported_late')),
        overdue_published_at  timestamptz,
        created_at            timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX incidents_due_idx ON incidents (report_due_by) WHERE status = 'awaiting_report' AND overdue_published_at IS NULL`);
    await q.query(`CREATE INDEX incidents_status_idx ON incidents (status, created_at DESC)`);
    await q.query(`CREATE INDEX incidents_responsible_idx ON incidents (responsible_org_id)`);
    await q.query(`
      CREATE TABLE incident_reports (
        incident_id        uuid PRIMARY KEY REFERENCES incidents (id),
        summary            text NOT NULL,
        actions            text NOT NULL,
        late               boolean NOT NULL,
        reported_by_org_id text NOT NULL,
        reported_by_client text NOT NULL,
        reported_at        timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE incident_reports');
    await q.query('DROP TABLE incidents');
    await q.query('DROP TABLE calendar_days');
  }
}

/** The offsets occurredAt and awareAt were written in (±HH:MM), to give them back as written; null before they were kept. */
export class RecallIncidentTimeOffsets1765000300000 implements MigrationInterface {
  name = 'RecallIncidentTimeOffsets1765000300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE incidents
      ADD COLUMN occurred_at_offset text CHECK (occurred_at_offset ~ '^[+-][0-9]{2}:[0-9]{2}$'),
      ADD COLUMN aware_at_offset text CHECK (aware_at_offset ~ '^[+-][0-9]{2}:[0-9]{2}$')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE incidents DROP COLUMN occurred_at_offset, DROP COLUMN aware_at_offset');
  }
}
