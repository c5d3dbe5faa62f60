import ExcelJS from 'exceljs';
import { eventually } from '@trace/testing';
import { aProduct, type Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';

const CSV = 'text/csv';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const problem = (rule: string) => `https://problems.trace.dev/${rule}`;

async function upload(api: Api, domain: string, body: string | Buffer, type = CSV, headers: Record<string, string> = {}) {
  const r = await fetch(`${api.baseUrl}/v1/${domain}/imports`, { method: 'POST', headers: { ...(await api.headers()), 'content-type': type, accept: 'application/json', ...headers }, body });
  return { status: r.status, body: (await r.json()) as any, location: r.headers.get('location'), replayed: r.headers.get('idempotent-replayed') };
}

/** Polls the job until it is no longer running. */
async function finished(api: Api, domain: string, id: string) {
  return eventually(async () => {
    const r = await api.get(`/v1/${domain}/imports/${id}`);
    return r.status === 200 && r.body.status !== 'running' && r.body;
  }, 60_000);
}

/**
 * Bulk import (POST /v1/{domain}/imports): a CSV or Excel file becomes
 * products and batches as a background job with progress and per-row errors;
 * every row is validated and authorised as the REST routes do; importing the
 * same file again creates nothing; a job whose process died is finished by
 * the next one.
 */
describe('bulk import of products and batches', () => {
  let t: EmbeddedTestApp;
  let farm: TestOrg;
  let other: TestOrg;
  let farmLoc: string;

  beforeAll(async () => {
    t = await startEmbeddedApp();
    farm = await anOrg(t, 'Import Farm', 'producer', ['farm']);
    other = await anOrg(t, 'Import Neighbour', 'producer', ['farm']);
    farmLoc = farm.locations.farm!;
    await aProduct(other.api, 'agri', '04012345000016', 'fruit'); // a GTIN that is not the farm's
  });
  afterAll(() => t?.close());

  const csv = () =>
    [
      'gtin,productName,category,lot,quantity,unit,producedAt,locationId,expiresAt',
      `09506000134352,"Cherry tomatoes, red",vegetable,TOM-001,500,kg,2026-11-20T08:00:00+08:00,${farmLoc},`,
      `09506000134352,,,TOM-002,250.5,kg,2026-11-21T08:00:00+08:00,${farmLoc},2026-12-21T00:00:00+08:00`,
      `09506000134352,,,TOM-003,300,kg,2026-11-22 08:00,${farmLoc},`, // no UTC offset
      `09506000134369,Pears,pear,,,,,,`, // not a category of agri
      '',
      `04012345000016,,,APL-001,100,kg,2026-11-20T08:00:00+08:00,${farmLoc},`, // another organisation's GTIN
      `09506000134352,,,TOM-004,lots,kg,2026-11-23T08:00:00+08:00,${farmLoc},`, // not a number
    ].join('\r\n') + '\r\n';

  it('registers what is valid, reports each bad row by number with its problem, and shows progress', async () => {
    const posted = await upload(farm.api, 'agri', csv());
    expect(posted.status).toBe(202);
    expect(posted.location).toBe(`/v1/agri/imports/${posted.body.id}`);
    expect(posted.body).toMatchObject({ domain: 'agri', status: 'running', format: 'csv', total: 6 });
    const job = await finished(farm.api, 'agri', posted.body.id);
    expect(job).toMatchObject({ status: 'completed', total: 6, processed: 6, productsCreated: 1, batchesCreated: 2, batchesExisting: 0, failedRows: 4 });
    const byRow = Object.fromEntries(job.errors.map((e: any) => [e.row, e]));
    expect(Object.keys(byRow).map(Number).sort()).toEqual([4, 5, 7, 8]);
    expect(byRow[4]).toMatchObject({ type: 'validation', status: 400, errors: [expect.objectContaining({ field: 'producedAt' })] });
    expect(byRow[5]).toMatchObject({ status: 400, type: 'category' });
    expect(byRow[7]).toMatchObject({ status: 422, type: 'product-owner' });
    expect(byRow[8]).toMatchObject({ type: 'validation', errors: [expect.objectContaining({ field: 'quantity.value' })] });

    // What the rows registered is what the REST routes would have: the farm's batches, with their chain.
    const list = await farm.api.get('/v1/agri/batches?gtin=09506000134352');
    expect(list.body.items.map((b: any) => b.lot).sort()).toEqual(['TOM-001', 'TOM-002']);
    const tom2 = list.body.items.find((b: any) => b.lot === 'TOM-002');
    expect(tom2).toMatchObject({ ownerOrgId: farm.id, quantity: { value: 250.5, unit: 'kg' }, expiresAt: '2026-12-21T00:00:00+08:00' });
    expect((await farm.api.get(`/v1/agri/batches/${tom2.id}/verify`)).body).toMatchObject({ valid: true, length: 1 });
    expect((await farm.api.get('/v1/agri/products?gtin=09506000134352')).body.items[0]).toMatchObject({ name: 'Cherry tomatoes, red' });
  });

  it('is idempotent: the same file again creates nothing and reports what exists', async () => {
    const again = await upload(farm.api, 'agri', csv());
    const job = await finished(farm.api, 'agri', again.body.id);
    expect(job).toMatchObject({ status: 'completed', productsCreated: 0, productsExisting: 1, batchesCreated: 0, batchesExisting: 2, failedRows: 4 });
    const [{ n }] = await t.query(`SELECT count(*)::int AS n FROM ${t.prefix}agri.batches WHERE lot LIKE 'TOM-%'`);
    expect(n).toBe(2);
  });

  it('honours Idempotency-Key with the file as the body: the same file replays the job, another file is a 422', async () => {
    const file = `gtin,lot,quantity,unit,producedAt,locationId\n09506000134352,KEY-001,5,kg,2026-11-20T08:00:00+08:00,${farmLoc}\n`;
    const first = await upload(farm.api, 'agri', file, CSV, { 'idempotency-key': 'import-key-1' });
    expect(first.status).toBe(202);
    const retry = await upload(farm.api, 'agri', file, CSV, { 'idempotency-key': 'import-key-1' });
    expect([retry.status, retry.body.id, retry.replayed]).toEqual([202, first.body.id, 'true']);
    const other = await upload(farm.api, 'agri', file.replace('KEY-001', 'KEY-002'), CSV, { 'idempotency-key': 'import-key-1' });
    expect([other.status, other.body.type]).toEqual([422, problem('idempotency-key-reused')]);
    await finished(farm.api, 'agri', first.body.id);
  });

  it('authorises as the REST routes do: operators only, their own jobs, rules of the domain per row', async () => {
    const inspector = t.as(farm.id, 'inspector');
    expect((await upload(inspector, 'agri', csv())).status).toBe(403);
    const mine = await upload(farm.api, 'agri', `gtin,lot\n09506000134352,X\n`);
    expect((await other.api.get(`/v1/agri/imports/${mine.body.id}`)).status).toBe(404);
    await finished(farm.api, 'agri', mine.body.id);
    // A material batch without its standard and grade is refused per row, as POST /v1/material/batches refuses it.
    const site = await anOrg(t, 'Import Cement Works', 'processor', ['factory']);
    const material = await upload(
      site.api,
      'material',
      [
        'gtin,productName,category,lot,quantity,unit,producedAt,locationId,attributes.standard,attributes.grade',
        `06901234567892,Portland cement,cement,C-001,40,t,2026-11-20T08:00:00+08:00,${site.locations.factory},GB 175-2023,P·O 42.5`,
        `06901234567892,,,C-002,40,t,2026-11-20T08:00:00+08:00,${site.locations.factory},,`,
      ].join('\n'),
    );
    const job = await finished(site.api, 'material', material.body.id);
    expect(job).toMatchObject({ productsCreated: 1, batchesCreated: 1, failedRows: 1 });
    expect(job.errors[0]).toMatchObject({ row: 3, type: 'standard-required' });
  });

  it('refuses a file it cannot take, as a whole, before any row', async () => {
    const json = await farm.api.post('/v1/agri/imports', { rows: [] });
    expect([json.status, json.body.type]).toEqual([415, problem('unsupported-media-type')]);
    const typo = await upload(farm.api, 'agri', 'gtin,lott\n09506000134352,X\n');
    expect([typo.status, typo.body.type]).toEqual([400, problem('import-columns')]);
    expect(typo.body.detail).toContain('"lott"');
    expect((await upload(farm.api, 'agri', 'gtin,lot\n')).body.type).toBe(problem('import-empty'));
    expect((await upload(farm.api, 'agri', 'gtin,lot\n"09506000134352,X\n')).body.type).toBe(problem('import-file'));
    expect((await upload(farm.api, 'agri', Buffer.from('not a zip'), XLSX)).body.type).toBe(problem('import-file'));
  });

  it('reads an Excel workbook (first sheet), and refuses a date cell that has no UTC offset', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('batches');
    ws.addRow(['gtin', 'productName', 'category', 'lot', 'quantity', 'unit', 'producedAt', 'locationId']);
    ws.addRow(['09506000134352', 'Cherry tomatoes, red', 'vegetable', 'XL-001', 80, 'kg', '2026-11-24T08:00:00+08:00', farmLoc]);
    ws.addRow(['09506000134352', null, null, 'XL-002', 90, 'kg', new Date('2026-11-25T00:00:00Z'), farmLoc]);
    const posted = await upload(farm.api, 'agri', Buffer.from(await wb.xlsx.writeBuffer()), XLSX);
    expect(posted.status).toBe(202);
    const job = await finished(farm.api, 'agri', posted.body.id);
    expect(job).toMatchObject({ format: 'xlsx', total: 2, batchesCreated: 1, failedRows: 1 });
    expect(job.errors[0]).toMatchObject({ row: 3, type: 'validation' });
    expect(job.errors[0].detail).toContain('no UTC offset');
    expect((await farm.api.get('/v1/agri/batches?lot=XL-001')).body.items).toHaveLength(1);
  });

  it('a job cut off by a stop is finished by the next process, every row once', async () => {
    const rows = Array.from({ length: 150 }, (_, i) => `09506000134352,,,RS-${String(i).padStart(3, '0')},10,kg,2026-11-20T08:00:00+08:00,${farmLoc}`);
    const posted = await upload(farm.api, 'agri', ['gtin,productName,category,lot,quantity,unit,producedAt,locationId', ...rows].join('\n'));
    await eventually(async () => (await farm.api.get(`/v1/agri/imports/${posted.body.id}`)).body.processed > 0, 30_000);
    await t.stop(); // the process goes away mid-job
    const [cut] = await t.query(`SELECT status, processed FROM ${t.prefix}agri.import_jobs WHERE id = $1`, [posted.body.id]);
    expect(cut.status).toBe('running');
    expect(cut.processed).toBeLessThan(150);
    // A minute without a heartbeat: abandoned, as it would be after a crash.
    await t.query(`UPDATE ${t.prefix}agri.import_jobs SET heartbeat_at = now() - interval '2 minutes' WHERE id = $1`, [posted.body.id]);
    t = await startEmbeddedApp({}, { prefix: t.prefix });
    const job = await finished(t.as(farm.id, 'operator'), 'agri', posted.body.id);
    expect(job).toMatchObject({ status: 'completed', processed: 150, failedRows: 0 });
    expect(job.batchesCreated + job.batchesExisting).toBe(150);
    const [{ n }] = await t.query(`SELECT count(*)::int AS n FROM ${t.prefix}agri.batches WHERE lot LIKE 'RS-%'`);
    expect(n).toBe(150);
  });
});
