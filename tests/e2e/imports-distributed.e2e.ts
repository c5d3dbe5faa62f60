import { eventually } from '@trace/testing';
import { startDistributed, type DistributedDeployment } from '../support/distributed';
import type { Api } from '../support/api';

/**
 * Distributed mode: the gateway forwards a CSV upload to the agri service
 * untouched (it is not JSON, and not parsed on the way), the job is read back
 * through the gateway, and the certificate page comes from agri through the
 * gateway as HTML while a program still gets JSON.
 */
describe('bulk import and the certificate page through the gateway', () => {
  let d: DistributedDeployment;
  let farm: Api;
  let loc: string;

  beforeAll(async () => {
    d = await startDistributed(['agri'], 'e2e-imports');
    const org = await d.as('platform', 'admin').post('/v1/orgs', { name: 'Gateway Import Farm', kind: 'producer' });
    expect(org.status).toBe(201);
    farm = d.as(org.body.id, 'operator');
    loc = (await farm.post('/v1/locations', { name: 'Field 7', kind: 'farm', region: 'CN-37' })).body.id;
  });
  afterAll(() => d?.stop());

  it('imports a CSV sent to the gateway and shows the job through it', async () => {
    const csv = [
      'gtin,productName,category,lot,quantity,unit,producedAt,locationId',
      `09506000134352,Cherry tomatoes,vegetable,GW-001,500,kg,2026-11-20T08:00:00+08:00,${loc}`,
      `09506000134352,,,GW-002,300,kg,2026-11-21T08:00:00+08:00,${loc}`,
      `09506000134352,,,GW-003,300,kg,not a time,${loc}`,
    ].join('\n');
    const r = await fetch(`${farm.baseUrl}/v1/agri/imports`, { method: 'POST', headers: { ...(await farm.headers()), 'content-type': 'text/csv', accept: 'application/json' }, body: csv });
    const posted: any = await r.json();
    expect([r.status, posted.total]).toEqual([202, 3]);
    expect(r.headers.get('location')).toBe(`/v1/agri/imports/${posted.id}`);
    const job = await eventually(async () => {
      const j = await farm.get(`/v1/agri/imports/${posted.id}`);
      return j.status === 200 && j.body.status === 'completed' && j.body;
    }, 60_000);
    expect(job).toMatchObject({ productsCreated: 1, batchesCreated: 2, failedRows: 1, errors: [expect.objectContaining({ row: 4, type: 'validation' })] });
    expect((await farm.get('/v1/agri/batches?lot=GW-002')).body.items).toHaveLength(1);
  });

  it('serves the certificate page through the gateway to a browser, JSON to a program', async () => {
    const batch = (await farm.get('/v1/agri/batches?lot=GW-001')).body.items[0];
    const issued = await farm.post(`/v1/agri/batches/${batch.id}/certificate`, { commitments: ['no_banned_substances'], basis: 'entrusted_test', contact: '13800138000', origin: '山东寿光' });
    expect(issued.status).toBe(201);
    const page = await fetch(`${farm.baseUrl}/v1/certificates/${issued.body.number}`, { headers: { accept: 'text/html', 'accept-language': 'zh-CN' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('承诺达标合格证');
    expect(html).toContain(issued.body.number);
    expect(html).toMatch(/<svg role="img"/);
    expect((await d.public.get(`/v1/certificates/${issued.body.number}`)).body).toMatchObject({ number: issued.body.number, basis: 'entrusted_test' });
  });
});
