import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dropSchemas, freePort, ServiceProcess, testDatabaseUrl, uniquePrefix } from '@trace/testing';

const ROOT = resolve(__dirname, '../..');
const ADMIN_SECRET = 'e2e-demo-admin-secret-0123456789';

/** Runs a command-line tool as `npm run demo` / `npm run import` run it: node scripts/run.js <entry> …args. */
function run(entry: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['scripts/run.js', entry, ...args], { cwd: ROOT, env: { ...process.env, TRACE_URL: '', TRACE_ADMIN_CLIENT_SECRET: '' }, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function call(url: string, method: string, path: string, token?: string, body?: unknown) {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, body: (await r.json().catch(() => undefined)) as any };
}

/**
 * `npm run demo` against the embedded default (`npm start`, the real
 * process), through the public API only; then what it made is checked as its
 * users would see it, with the clients it printed. Then `npm run import` with
 * one of those clients. This is how CI runs the demo.
 */
describe('npm run demo and npm run import against npm start', () => {
  const prefix = uniquePrefix('demo');
  const dir = mkdtempSync(join(tmpdir(), 'trace-demo-'));
  let proc: ServiceProcess;
  let demo: any;
  const token = async (clientId: string, clientSecret: string) => {
    const r = await call(proc.url, 'POST', '/v1/auth/token', undefined, { clientId, clientSecret });
    expect(r.status).toBe(200);
    return r.body.accessToken as string;
  };
  const client = (kind: string, role?: string) => demo.clients.find((c: any) => c.kind === kind && (!role || c.role === role));

  beforeAll(async () => {
    proc = ServiceProcess.spawn(
      'embedded',
      'services/embedded/src/main.ts',
      { DATABASE_URL: testDatabaseUrl(), DB_SCHEMA_PREFIX: prefix, BOOTSTRAP_ADMIN_CLIENT_ID: 'admin', BOOTSTRAP_ADMIN_CLIENT_SECRET: ADMIN_SECRET, OUTBOX_POLL_MS: '50', DB_POOL_SIZE: '3' },
      await freePort(),
    );
    await proc.ready(90_000);
  });

  afterAll(async () => {
    await proc?.stop('SIGTERM').catch(() => undefined);
    await dropSchemas(testDatabaseUrl(), prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  it('fills the instance and prints every client it created', async () => {
    const r = await run('scripts/demo/demo.ts', ['--url', proc.url, '--admin-secret', ADMIN_SECRET, '--json']);
    expect(r.stderr).not.toContain('demo failed');
    expect(r.code).toBe(0);
    demo = JSON.parse(r.stdout);
    const kinds = demo.clients.map((c: any) => c.kind);
    for (const k of ['producer', 'processor', 'retailer', 'pharmacy', 'hospital', 'construction_company', 'inspection_agency', 'regulator']) expect(kinds).toContain(k);
    // Every printed client signs in with its printed secret.
    for (const c of demo.clients) await token(c.clientId, c.clientSecret);
  });

  it('made what it says: partial shipments, a certificate, a failed sample, a recall, incidents, drugs, an installation', async () => {
    const regulator = await token(client('regulator').clientId, client('regulator').clientSecret);
    const { batches } = demo;

    // The farm's tomatoes: 1,200 kg, 400 kg at the supermarket, 300 kg still at the farm; the processor's 500 kg became ketchup.
    const tomatoes = await call(proc.url, 'GET', `/v1/agri/batches/${batches.tomatoes.id}`, regulator);
    const held = Object.fromEntries(tomatoes.body.holdings.map((h: any) => [h.orgId, h.quantity]));
    const orgOf = (kind: string) => client(kind).orgId;
    expect(held[demo.clients[0].orgId]).toBe(300);
    expect(held[orgOf('retailer')]).toBe(400);
    expect((await call(proc.url, 'GET', `/v1/trace/agri/${batches.tomatoes.id}?direction=downstream`, regulator)).body.nodes.map((n: any) => n.batchId)).toContain(batches.ketchup.id);

    // The certificate is on the scan and its page answers.
    const scan = await call(proc.url, 'GET', `/01/${batches.tomatoes.gtin.padStart(14, '0')}/10/${batches.tomatoes.lot}`);
    expect(scan.body.certificates.map((c: any) => c.number)).toContain(demo.certificate.number);
    expect((await fetch(demo.certificate.page, { headers: { accept: 'text/html' } })).status).toBe(200);

    // The failed sample held the wheat, its case became a recall of the wheat and the noodles made from it.
    expect((await call(proc.url, 'GET', `/v1/agri/batches/${batches.wheat.id}`, regulator)).body.status).toBe('recalled');
    const recall = await call(proc.url, 'GET', `/v1/recalls/${demo.recall.id}`, regulator);
    expect(recall.body).toMatchObject({ status: 'active', level: 2, caseId: demo.failedSample.caseId });
    expect(recall.body.scope.batches.map((b: any) => b.batchId).sort()).toEqual([batches.wheat.id, batches.noodles.id].sort());
    expect(recall.body.acknowledgements).toHaveLength(1);
    expect((await call(proc.url, 'GET', `/01/${batches.noodles.gtin.padStart(14, '0')}/10/${batches.noodles.lot}?linkType=gs1:recallStatus`)).body.recall.active).toBe(true);

    // Incidents the regulator sees, one reported, one awaiting its report.
    const incidents = (await call(proc.url, 'GET', '/v1/incidents?limit=500', regulator)).body.items;
    const mine = incidents.filter((i: any) => demo.incidents.some((d: any) => d.id === i.id));
    expect(mine.map((i: any) => i.status).sort()).toEqual(['awaiting_report', 'reported']);

    // Drug codes: one dispensed at the pharmacy, the others verify.
    expect((await call(proc.url, 'POST', '/v1/drug/verify', undefined, { code: batches.capsules.codes[0] })).body.status).toBe('DISPENSED');
    expect((await call(proc.url, 'POST', '/v1/drug/verify', undefined, { code: batches.capsules.codes[1] })).body.status).toBe('VERIFIED');

    // The cement delivered to the construction site is recorded as installed there.
    const installed = await call(proc.url, 'GET', `/v1/material/batches/${batches.cement.id}/installations`, regulator);
    expect(installed.status).toBe(200);
    expect(JSON.stringify(installed.body)).toContain('80');
  });

  it('runs again on the same instance (new organisations, told apart by the run)', async () => {
    const r = await run('scripts/demo/demo.ts', ['--url', proc.url, '--admin-secret', ADMIN_SECRET]);
    expect(r.code).toBe(0);
    // The table, not JSON: the organisations and their secrets, one line each.
    expect(r.stdout).toMatch(/organisation\s+kind\s+role\s+clientId\s+clientSecret/);
    expect(r.stdout.match(/^.*\bcli_\w+\s+\S+$/gm)).toHaveLength(12);
    expect(r.stdout).toMatch(/Green Hill Farm \(\d{5}\)/);
  });

  it('npm run import: a CSV through the API with a progress bar, failed rows listed, exit code 2', async () => {
    const farm = demo.clients[0];
    const api = await token(farm.clientId, farm.clientSecret);
    const location = (await call(proc.url, 'GET', '/v1/locations', api)).body.items[0].id;
    const gtin = demo.batches.tomatoes.gtin;
    const file = join(dir, 'lots.csv');
    const rows = Array.from({ length: 40 }, (_, i) => `${gtin},CSV-${i},25,kg,2026-11-20T08:00:00+08:00,${location}`);
    writeFileSync(file, ['gtin,lot,quantity,unit,producedAt,locationId', ...rows, `${gtin},CSV-BAD,25,kg,yesterday,${location}`].join('\n'));
    const args = [file, '--domain', 'agri', '--url', proc.url, '--client-id', farm.clientId, '--client-secret', farm.clientSecret];
    const r = await run('scripts/import/import.ts', args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\[#{30}\] 100%\s+41\/41 rows\s+1 failed/);
    expect(r.stdout).toContain('batches 40 created');
    expect(r.stdout).toMatch(/row 42: 400 validation: producedAt/);
    const list = await call(proc.url, 'GET', `/v1/agri/batches?gtin=${gtin}&limit=500`, api);
    expect(list.body.items.filter((b: any) => b.lot.startsWith('CSV-'))).toHaveLength(40);
    // Again: nothing new, every lot already there.
    const again = await run('scripts/import/import.ts', args);
    expect(again.stdout).toContain('batches 0 created, 40 already there');
  });
});
