/**
 * The FSMA 204 "electronic sortable spreadsheet" (21 CFR 1.1455(c)(3)(ii)):
 * one row per Critical Tracking Event of a traceability lot and of every lot
 * it touched, with the Key Data Elements the rule asks for that event
 * (21 CFR 1.1325–1.1350). A KDE the records do not hold is written as
 * MISSING and named in the "Missing KDEs" column, never left blank: a blank
 * cell means "not a KDE of this CTE".
 *
 * Column names follow the wording of the rule and of the FDA's sortable
 * spreadsheet template (TLC, product description, quantity, unit of measure,
 * location descriptions, TLC source, reference document type and number).
 *
 * Pure: takes the read model's rows and the directory's answers, returns
 * rows; CSV text is made here too. No I/O, so it is unit-tested on its own.
 */

export const MISSING = 'MISSING';

export type CteName = 'Harvesting' | 'Initial Packing' | 'Transformation' | 'Shipping' | 'Receiving';

/** Sort order of CTEs happening at the same instant: the order they happen in on a real day. */
const CTE_ORDER: Record<CteName, number> = { Harvesting: 0, 'Initial Packing': 1, Transformation: 2, Shipping: 3, Receiving: 4 };

export interface FsmaRow {
  cte: CteName;
  eventDate: Date;
  tlc: string;
  gtin: string;
  productDescription: string;
  quantity: number | string;
  unit: string;
  location: string;
  previousSource: string;
  subsequentRecipient: string;
  tlcSource: string;
  inputTlcs: string;
  referenceDocumentType: string;
  referenceDocumentNumber: string;
  missingKdes: string;
  domain: string;
  batchId: string;
  chainSeq: number;
}

export type FsmaColumn = keyof FsmaRow;

/** Columns in sheet order, with their headers. */
export const FSMA_COLUMNS: { key: FsmaColumn; header: string }[] = [
  { key: 'cte', header: 'Critical Tracking Event (CTE)' },
  { key: 'eventDate', header: 'Event Date' },
  { key: 'tlc', header: 'Traceability Lot Code (TLC)' },
  { key: 'gtin', header: 'GTIN' },
  { key: 'productDescription', header: 'Product Description' },
  { key: 'quantity', header: 'Quantity' },
  { key: 'unit', header: 'Unit of Measure' },
  // Where the CTE took place: the farm harvested, the packing or transformation site, where shipped from, where received.
  { key: 'location', header: 'Location Description' },
  { key: 'previousSource', header: 'Location Description of Immediate Previous Source' },
  { key: 'subsequentRecipient', header: 'Location Description of Immediate Subsequent Recipient' },
  { key: 'tlcSource', header: 'Traceability Lot Code Source (Location Description)' },
  { key: 'inputTlcs', header: 'Input Traceability Lot Codes (with Quantity and Product Description)' },
  { key: 'referenceDocumentType', header: 'Reference Document Type' },
  { key: 'referenceDocumentNumber', header: 'Reference Document Number' },
  { key: 'missingKdes', header: 'Missing KDEs' },
  { key: 'domain', header: 'Domain' },
  { key: 'batchId', header: 'Batch ID' },
  { key: 'chainSeq', header: 'Chain Event Seq' },
];

const HEADER: Record<FsmaColumn, string> = Object.fromEntries(FSMA_COLUMNS.map((c) => [c.key, c.header])) as Record<FsmaColumn, string>;

/** The KDE columns each CTE must fill (21 CFR 1.1325 harvesting … 1.1350 transformation). */
export const REQUIRED_KDES: Record<CteName, FsmaColumn[]> = {
  Harvesting: [
    'eventDate', 'productDescription', 'quantity', 'unit', 'location', 'subsequentRecipient', 'referenceDocumentType', 'referenceDocumentNumber',
  ],
  'Initial Packing': [
    'eventDate', 'tlc', 'productDescription', 'quantity', 'unit', 'location', 'tlcSource', 'referenceDocumentType', 'referenceDocumentNumber',
  ],
  Transformation: [
    'eventDate', 'tlc', 'productDescription', 'quantity', 'unit', 'location', 'tlcSource', 'inputTlcs',
    'referenceDocumentType', 'referenceDocumentNumber',
  ],
  Shipping: [
    'eventDate', 'tlc', 'productDescription', 'quantity', 'unit', 'location', 'subsequentRecipient', 'tlcSource',
    'referenceDocumentType', 'referenceDocumentNumber',
  ],
  Receiving: [
    'eventDate', 'tlc', 'productDescription', 'quantity', 'unit', 'location', 'previousSource', 'tlcSource',
    'referenceDocumentType', 'referenceDocumentNumber',
  ],
};

// ------------------------------------------------------------------ inputs

export interface LotRecord {
  batchId: string;
  domain: string;
  gtin: string;
  lot: string;
  productName: string | null;
  ownerOrgId: string;
  locationId: string;
  quantity: { value: string; unit: string } | null;
  producedAt: Date;
  inputs: { batchId: string; quantity: { value: string; unit: string } | null }[];
  /** The registration's reference documents (harvest, packing or batch records). */
  documents: { type: string; id: string }[];
}

export interface ChainEventRecord {
  batchId: string;
  seq: number;
  bizStep: string;
  eventTime: Date;
  orgId: string;
  locationId: string;
  toOrgId: string | null;
  toLocationId: string | null;
  quantity: { value: string; unit: string } | null;
  documents: { type: string; id: string }[];
  /** A captured EPCIS event's CBV 2.0 event hash (absent for events not captured from EPCIS). */
  epcisHash?: string | null;
  /** This link is an EPCIS errorDeclaration of the event with `epcisHash`. */
  errorDeclaration?: boolean;
}

export interface LocationFacts {
  name: string;
  kind: string;
  orgId: string;
  address?: string | null;
  region?: string | null;
  gln?: string | null;
}

export interface SheetSources {
  /** Every lot of the export, and the inputs of its transformations. */
  lots: Map<string, LotRecord>;
  /** The lots whose CTEs are reported (the traced lot and everything it touched). */
  reported: string[];
  /** Shipping, receiving and void_shipping events of the reported lots. */
  events: ChainEventRecord[];
  locations: Map<string, LocationFacts>;
  organisations: Map<string, string>;
}

// ------------------------------------------------------------------ rows

/** "Org — Location, address, region, GLN n": the rule's location description (business name and physical location). */
export function describeLocation(id: string | null | undefined, src: Pick<SheetSources, 'locations' | 'organisations'>): string {
  if (!id) return '';
  const l = src.locations.get(id);
  if (!l) return '';
  const org = src.organisations.get(l.orgId);
  const place = [l.name, l.address, l.region].filter((s) => s && s.trim()).join(', ');
  return [org ? `${org} — ${place}` : place, l.gln ? `GLN ${l.gln}` : ''].filter(Boolean).join(', ');
}

const isFarm = (l: LocationFacts | undefined) => l?.kind === 'farm' || l?.kind === 'field';

function quantityOf(q: { value: string; unit: string } | null): { quantity: number | string; unit: string } {
  if (!q || q.value === '') return { quantity: '', unit: q?.unit ?? '' };
  const n = Number(q.value);
  return { quantity: Number.isFinite(n) ? n : q.value, unit: q.unit };
}

function documentsOf(docs: { type: string; id: string }[]): { referenceDocumentType: string; referenceDocumentNumber: string } {
  return { referenceDocumentType: docs.map((d) => d.type).join('; '), referenceDocumentNumber: docs.map((d) => d.id).join('; ') };
}

type Draft = Omit<FsmaRow, 'missingKdes'>;

/** Fills every missing required KDE with MISSING and names them; blank stays blank only where the CTE has no such KDE. */
function flag(d: Draft): FsmaRow {
  const row = { ...d, missingKdes: '' } as FsmaRow;
  const missing: string[] = [];
  for (const key of REQUIRED_KDES[d.cte]) {
    const v = row[key];
    if (v === '' || v === null || v === undefined) {
      (row as unknown as Record<string, unknown>)[key] = MISSING;
      missing.push(HEADER[key]);
    }
  }
  row.missingKdes = missing.length ? missing.join('; ') : 'none';
  return row;
}

/** The lot's own CTE: its harvest or initial packing (a registration) or its transformation (a registration with inputs). */
function originRow(lot: LotRecord, src: SheetSources): Draft {
  const location = src.locations.get(lot.locationId);
  const cte: CteName = lot.inputs.length > 0 ? 'Transformation' : lot.domain === 'agri' && isFarm(location) ? 'Harvesting' : 'Initial Packing';
  const inputTlcs = lot.inputs
    .map((i) => {
      const input = src.lots.get(i.batchId);
      const q = i.quantity ? `${i.quantity.value} ${i.quantity.unit}` : MISSING;
      if (!input) return `${MISSING} (batch ${i.batchId}): ${q}`;
      return `${input.lot} (GTIN ${input.gtin}, ${input.productName || MISSING}): ${q}`;
    })
    .join('; ');
  const here = describeLocation(lot.locationId, src);
  return {
    cte,
    eventDate: lot.producedAt,
    tlc: lot.lot,
    gtin: lot.gtin,
    productDescription: lot.productName ?? '',
    ...quantityOf(lot.quantity),
    location: here,
    previousSource: '',
    subsequentRecipient: '',
    // The TLC is assigned where the lot was registered: the farm, the packer, the transformer.
    tlcSource: here,
    inputTlcs,
    ...documentsOf(lot.documents),
    domain: lot.domain,
    batchId: lot.batchId,
    chainSeq: 1,
  };
}

/**
 * The events the sheet reports: an EPCIS errorDeclaration is no CTE, and the
 * event it declares erroneous is void, as if never recorded (its chain link
 * stays; the sheet reports what happened). A corrective event the partner
 * captured is an event like any other, so it is its own row in its place.
 */
export function withoutDeclaredErrors(events: ChainEventRecord[]): ChainEventRecord[] {
  const declared = new Set(events.filter((e) => e.errorDeclaration && e.epcisHash).map((e) => e.epcisHash));
  return events.filter((e) => !e.errorDeclaration && !(e.epcisHash && declared.has(e.epcisHash)));
}

function movementRows(batchId: string, events: ChainEventRecord[], src: SheetSources): Draft[] {
  const lot = src.lots.get(batchId);
  const chain = withoutDeclaredErrors(events).sort((a, b) => a.seq - b.seq);
  const rows: Draft[] = [];
  const common = (e: ChainEventRecord) => ({
    eventDate: e.eventTime,
    tlc: lot?.lot ?? '',
    gtin: lot?.gtin ?? '',
    productDescription: lot?.productName ?? '',
    ...quantityOf(e.quantity),
    location: describeLocation(e.locationId, src),
    tlcSource: describeLocation(lot?.locationId, src),
    inputTlcs: '',
    ...documentsOf(e.documents),
    domain: lot?.domain ?? '',
    batchId,
    chainSeq: e.seq,
  });
  for (let n = 0; n < chain.length; n++) {
    const e = chain[n];
    if (e.bizStep === 'shipping') {
      // A shipment voided before anyone received it never happened.
      const next = chain.slice(n + 1).find((x) => x.bizStep !== 'shipping');
      if (next?.bizStep === 'void_shipping') continue;
      const received = next?.bizStep === 'receiving' ? next : undefined;
      const recipient =
        describeLocation(e.toLocationId, src) ||
        describeLocation(received?.locationId, src) ||
        (e.toOrgId && src.organisations.get(e.toOrgId) ? `${src.organisations.get(e.toOrgId)} (location not recorded)` : '');
      rows.push({ cte: 'Shipping', ...common(e), previousSource: '', subsequentRecipient: recipient });
    } else if (e.bizStep === 'receiving') {
      const shipped = chain
        .slice(0, n)
        .reverse()
        .find((x) => x.bizStep === 'shipping');
      rows.push({ cte: 'Receiving', ...common(e), previousSource: describeLocation(shipped?.locationId, src), subsequentRecipient: '' });
    }
  }
  return rows;
}

export interface SheetFilter {
  from?: Date;
  /** Exclusive. */
  to?: Date;
}

/** Every CTE of the reported lots, flagged, within the dates, in time order. */
export function buildFsmaRows(src: SheetSources, filter: SheetFilter = {}): FsmaRow[] {
  const byBatch = new Map<string, ChainEventRecord[]>();
  for (const e of src.events) {
    const list = byBatch.get(e.batchId) ?? [];
    list.push(e);
    byBatch.set(e.batchId, list);
  }
  const drafts: Draft[] = [];
  for (const batchId of src.reported) {
    const lot = src.lots.get(batchId);
    const moves = movementRows(batchId, byBatch.get(batchId) ?? [], src);
    if (lot) {
      const origin = originRow(lot, src);
      // A harvest record names who the food went to next (1.1325(a)(1)): the lot's first shipment says.
      if (origin.cte === 'Harvesting') origin.subsequentRecipient = moves.find((m) => m.cte === 'Shipping')?.subsequentRecipient ?? '';
      drafts.push(origin);
    }
    drafts.push(...moves);
  }
  return drafts
    .filter((d) => (!filter.from || d.eventDate >= filter.from) && (!filter.to || d.eventDate < filter.to))
    .sort(
      (a, b) =>
        a.eventDate.getTime() - b.eventDate.getTime() ||
        CTE_ORDER[a.cte] - CTE_ORDER[b.cte] ||
        a.tlc.localeCompare(b.tlc) ||
        a.chainSeq - b.chainSeq,
    )
    .map(flag);
}

// ------------------------------------------------------------------ cells

/**
 * A text cell a spreadsheet could take for a formula (= + - @, or a leading
 * tab or carriage return, OWASP "CSV injection") is prefixed with an
 * apostrophe, which spreadsheets show as text. Applied to text only: numbers
 * and dates are written by this module, never taken from a user.
 */
export function neutralise(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** A cell as both formats write it: dates as RFC 3339 UTC text in CSV, numbers as numbers, text neutralised. */
export function cellValue(row: FsmaRow, key: FsmaColumn): string | number | Date {
  const v = row[key];
  if (v instanceof Date) return v;
  if (typeof v === 'number') return v;
  return neutralise(v);
}

function csvField(v: string | number | Date): string {
  const s = v instanceof Date ? v.toISOString() : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * RFC 4180 CSV (CRLF, quotes doubled, fields with comma, quote or line break
 * quoted), with a UTF-8 byte-order mark so that spreadsheet programs read
 * non-ASCII names (Chinese organisation names) correctly.
 */
export function toCsv(rows: FsmaRow[]): string {
  const lines = [FSMA_COLUMNS.map((c) => csvField(c.header)).join(',')];
  for (const row of rows) lines.push(FSMA_COLUMNS.map((c) => csvField(cellValue(row, c.key))).join(','));
  return '\uFEFF' + lines.join('\r\n') + '\r\n';
}
