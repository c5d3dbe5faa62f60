import { buildFsmaRows, FSMA_COLUMNS, MISSING, neutralise, toCsv, type ChainEventRecord, type LotRecord, type SheetSources } from './fsma-sheet';
import { chooseFormat, exportFileName, parseBound, XLSX } from './exports.controller';

const FARM = 'loc-farm';
const FACTORY = 'loc-factory';
const lot = (over: Partial<LotRecord>): LotRecord => ({
  batchId: 'b-agri',
  domain: 'agri',
  gtin: '09506000134352',
  lot: 'WHEAT-1',
  productName: 'Wheat',
  ownerOrgId: 'org-farm',
  locationId: FARM,
  quantity: { value: '1000', unit: 'kg' },
  producedAt: new Date('2026-11-01T08:00:00Z'),
  inputs: [],
  documents: [{ type: 'harvest log', id: 'H-1' }],
  ...over,
});
const ev = (over: Partial<ChainEventRecord>): ChainEventRecord => ({
  batchId: 'b-agri',
  seq: 2,
  bizStep: 'shipping',
  eventTime: new Date('2026-11-02T08:00:00Z'),
  orgId: 'org-farm',
  locationId: FARM,
  toOrgId: 'org-proc',
  toLocationId: null,
  quantity: { value: '1000', unit: 'kg' },
  documents: [{ type: 'bol', id: 'BOL-1' }],
  ...over,
});
const sources = (lots: LotRecord[], events: ChainEventRecord[]): SheetSources => ({
  lots: new Map(lots.map((l) => [l.batchId, l])),
  reported: lots.map((l) => l.batchId),
  events,
  locations: new Map([
    [FARM, { name: 'North field', kind: 'farm', orgId: 'org-farm', address: '1 Farm Road', region: 'CN-37', gln: '9506000134352' }],
    [FACTORY, { name: 'Plant 2', kind: 'factory', orgId: 'org-proc' }],
  ]),
  organisations: new Map([
    ['org-farm', 'Green Farm'],
    ['org-proc', 'Noodle Works'],
  ]),
});

describe('FSMA 204 sheet', () => {
  it('maps registrations and movements to CTEs, with previous source, recipient and TLC source', () => {
    const food = lot({ batchId: 'b-food', domain: 'food', gtin: '04012345000016', lot: 'NOODLE-1', productName: 'Noodles', locationId: FACTORY,
      producedAt: new Date('2026-11-03T08:00:00Z'), inputs: [{ batchId: 'b-agri', quantity: { value: '100', unit: 'kg' } }] });
    const rows = buildFsmaRows(
      sources([lot({}), food], [ev({}), ev({ seq: 3, bizStep: 'receiving', orgId: 'org-proc', locationId: FACTORY, eventTime: new Date('2026-11-02T10:00:00Z') })]),
    );
    expect(rows.map((r) => r.cte)).toEqual(['Harvesting', 'Shipping', 'Receiving', 'Transformation']);
    const [harvest, ship, receive, transform] = rows;
    expect(harvest.location).toBe('Green Farm — North field, 1 Farm Road, CN-37, GLN 9506000134352');
    expect(harvest.subsequentRecipient).toBe('Noodle Works — Plant 2');
    expect(ship.subsequentRecipient).toBe('Noodle Works — Plant 2');
    expect(receive).toMatchObject({ previousSource: harvest.location, location: 'Noodle Works — Plant 2', tlcSource: harvest.location, quantity: 1000, unit: 'kg' });
    expect(transform).toMatchObject({ tlc: 'NOODLE-1', tlcSource: 'Noodle Works — Plant 2', inputTlcs: 'WHEAT-1 (GTIN 09506000134352, Wheat): 100 kg' });
    expect(receive.missingKdes).toBe('none');
    expect(harvest).toMatchObject({ referenceDocumentType: 'harvest log', referenceDocumentNumber: 'H-1', missingKdes: 'none' });
    expect(transform.missingKdes).toBe('none');
  });

  it('flags missing KDEs, drops voided shipments, filters by date', () => {
    const rows = buildFsmaRows(
      sources([lot({ productName: null, documents: [] })], [
        ev({ seq: 2 }),
        ev({ seq: 3, bizStep: 'void_shipping' }),
        ev({ seq: 4, toOrgId: null, documents: [], quantity: null, eventTime: new Date('2026-11-05T00:00:00Z') }),
      ]),
    );
    expect(rows.map((r) => [r.cte, r.chainSeq])).toEqual([['Harvesting', 1], ['Shipping', 4]]);
    const ship = rows[1];
    for (const k of ['productDescription', 'quantity', 'unit', 'subsequentRecipient', 'referenceDocumentType', 'referenceDocumentNumber'] as const) {
      expect(ship[k]).toBe(MISSING);
    }
    expect(ship.previousSource).toBe(''); // not a shipping KDE
    expect(rows[0]).toMatchObject({ referenceDocumentType: MISSING, referenceDocumentNumber: MISSING });
    // The only shipment names no recipient, so the harvest cannot either.
    expect(rows[0].missingKdes).toBe('Product Description; Location Description of Immediate Subsequent Recipient; Reference Document Type; Reference Document Number');
    const only = buildFsmaRows(sources([lot({})], [ev({})]), { from: new Date('2026-11-02T00:00:00Z'), to: new Date('2026-11-03T00:00:00Z') });
    expect(only.map((r) => r.cte)).toEqual(['Shipping']);
  });

  it('leaves out an EPCIS error declaration and the event it declares erroneous; the corrective event is an ordinary row', () => {
    const rows = buildFsmaRows(
      sources([lot({})], [
        ev({ seq: 2, epcisHash: 'ni:///sha-256;ship?ver=CBV2.0' }),
        ev({ seq: 3, bizStep: 'receiving', orgId: 'org-proc', locationId: FACTORY, epcisHash: 'ni:///sha-256;wrong?ver=CBV2.0' }),
        // The declaration may come before the event it declares (another capture): void either way.
        ev({ seq: 4, bizStep: 'receiving', orgId: 'org-proc', locationId: FACTORY, epcisHash: 'ni:///sha-256;never?ver=CBV2.0', errorDeclaration: true }),
        ev({ seq: 5, bizStep: 'receiving', orgId: 'org-proc', locationId: FACTORY, epcisHash: 'ni:///sha-256;wrong?ver=CBV2.0', errorDeclaration: true }),
        ev({ seq: 6, bizStep: 'receiving', orgId: 'org-proc', locationId: FACTORY, eventTime: new Date('2026-11-02T11:00:00Z'), epcisHash: 'ni:///sha-256;fixed?ver=CBV2.0' }),
        ev({ seq: 7, bizStep: 'receiving', orgId: 'org-proc', locationId: FACTORY, eventTime: new Date('2026-11-02T12:00:00Z'), epcisHash: 'ni:///sha-256;never?ver=CBV2.0' }),
      ]),
    );
    expect(rows.map((r) => [r.cte, r.chainSeq])).toEqual([['Harvesting', 1], ['Shipping', 2], ['Receiving', 6]]);
    expect(rows[2].previousSource).toBe(rows[0].location);
    // A declared shipping is void too: the receiving then names no previous source.
    const noShip = buildFsmaRows(
      sources([lot({})], [
        ev({ seq: 2, epcisHash: 'h-ship' }),
        ev({ seq: 3, epcisHash: 'h-ship', errorDeclaration: true }),
        ev({ seq: 4, bizStep: 'receiving', orgId: 'org-proc', locationId: FACTORY }),
      ]),
    );
    expect(noShip.map((r) => r.cte)).toEqual(['Harvesting', 'Receiving']);
    expect(noShip[1].previousSource).toBe(MISSING);
  });

  it('writes RFC 4180 CSV with formula cells neutralised', () => {
    expect(neutralise('=1+2')).toBe("'=1+2");
    expect(neutralise('+1')).toBe("'+1");
    expect(neutralise('-1')).toBe("'-1");
    expect(neutralise('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(neutralise('Farm')).toBe('Farm');
    const [row] = buildFsmaRows(sources([lot({ lot: '=HYPERLINK("x")', productName: 'Wheat, "red"\nwinter' })], []));
    const csv = toCsv([row]);
    expect(csv.startsWith('\uFEFF')).toBe(true);
    const [header, line] = csv.slice(1).split('\r\n');
    expect(header.split(',')).toHaveLength(FSMA_COLUMNS.length);
    expect(line).toContain(`"'=HYPERLINK(""x"")"`);
    expect(line).toContain('"Wheat, ""red""\nwinter"');
    expect(line).toContain(',2026-11-01T08:00:00.000Z,');
  });

  it('parses dates, formats and file names strictly', () => {
    expect(parseBound('from', '2026-11-20')).toEqual(new Date('2026-11-20T00:00:00Z'));
    expect(parseBound('to', '2026-11-20')).toEqual(new Date('2026-11-21T00:00:00Z'));
    expect(parseBound('from', '2026-11-20T08:00:00+08:00')).toEqual(new Date('2026-11-20T00:00:00Z'));
    for (const bad of ['2026-02-31', '2026-13-01', 'yesterday', '2026-11-20T08:00:00', '1700000000']) expect(() => parseBound('from', bad)).toThrow();
    expect(chooseFormat(undefined, undefined)).toBe('csv');
    expect(chooseFormat(undefined, `${XLSX}, text/csv;q=0.5`)).toBe('xlsx');
    expect(chooseFormat('csv', XLSX)).toBe('csv');
    expect(() => chooseFormat(undefined, 'application/json')).toThrow();
    expect(() => chooseFormat('pdf', undefined)).toThrow();
    expect(exportFileName('09506000134352', '../=A "B"', 'csv', new Date('2026-11-26T10:00:00Z'))).toBe('fsma204_09506000134352_A_B__20261126.csv');
  });
});
