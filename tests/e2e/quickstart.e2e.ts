import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dropSchemas, freePort, ServiceProcess, testDatabaseUrl, uniquePrefix } from '@trace/testing';

const ROOT = resolve(__dirname, '../..');
const QUICKSTART = resolve(ROOT, 'docs/quickstart.md');
const ADMIN_SECRET = 'quickstart-admin-secret-0123456789';

/** The ```bash blocks of a Markdown page, in order. */
export function bashBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```bash\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/**
 * docs/quickstart.md as a reader runs it: every bash block, in order, in one
 * shell with `set -euo pipefail` (a curl answered 4xx/5xx fails it through
 * --fail-with-body), against the process `npm start` runs, with the bootstrap
 * admin the guide tells the reader to use. A changed route, field or rule that
 * the guide still shows fails here.
 */
describe('docs/quickstart.md runs as written', () => {
  const prefix = uniquePrefix('quickstart');
  let proc: ServiceProcess;

  beforeAll(async () => {
    proc = ServiceProcess.spawn(
      'embedded',
      'services/embedded/src/main.ts',
      {
        DATABASE_URL: testDatabaseUrl(),
        DB_SCHEMA_PREFIX: prefix,
        JWT_SECRET: 'e2e-quickstart-secret-0123456789abcdef',
        BOOTSTRAP_ADMIN_CLIENT_ID: 'admin',
        BOOTSTRAP_ADMIN_CLIENT_SECRET: ADMIN_SECRET,
        OUTBOX_POLL_MS: '50',
        DB_POOL_SIZE: '3',
      },
      await freePort(),
    );
    await proc.ready(90_000);
  });

  afterAll(async () => {
    await proc?.stop('SIGTERM').catch(() => undefined);
    await dropSchemas(testDatabaseUrl(), prefix);
  });

  it('finds the blocks of each of the four users', () => {
    const page = readFileSync(QUICKSTART, 'utf8');
    for (const heading of ['## 1. Producer', '## 2. Inspector', '## 3. Consumer', '## 4. Regulator']) expect(page).toContain(heading);
    expect(bashBlocks(page).length).toBeGreaterThanOrEqual(10);
    expect(bashBlocks('x\n```bash\necho a\n```\n```json\n{}\n```\n```bash\necho b\n```\n')).toEqual(['echo a\n', 'echo b\n']);
  });

  it('every command succeeds and shows what the text says it shows', () => {
    const script = bashBlocks(readFileSync(QUICKSTART, 'utf8')).join('\n');
    const cwd = mkdtempSync(join(tmpdir(), 'trace-quickstart-'));
    const run = spawnSync('bash', ['--norc', '--noprofile', '-euo', 'pipefail', '-c', script], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, BASE: proc.url, ADMIN_ID: 'admin', ADMIN_SECRET },
      cwd,
      encoding: 'utf8',
      timeout: 120_000,
    });
    rmSync(cwd, { recursive: true, force: true });
    const out = run.stdout;
    expect({ status: run.status, stderr: run.stderr.slice(-2000) }).toEqual({ status: 0, stderr: '' });
    // 1. the batch, its certificate, the shipment the shop sees, an intact chain
    expect(out).toMatch(/"status":"active","digitalLink":"\/01\/069\d{11}\/10\/TOM-\d+"/);
    expect(out).toMatch(/"number":"AC\d{8}-[0-9A-Z]{8}"/);
    expect(out).toMatch(/"quantity":\{"value":500,"unit":"kg"\}/);
    expect(out).toMatch(/"valid":true,"length":3/);
    // 2. the failed sample holds the batch
    expect(out).toMatch(/"conclusion":"fail"/);
    expect(out).toMatch(/^held$/m);
    // 3. the consumer's JSON and page, the QR code
    expect(out).toMatch(/"status":"held","recall":\{"active":false\},"chainValid":true/);
    expect(out).toContain('<h1>樱桃番茄 Cherry tomatoes</h1>');
    expect(out).toMatch(/^image\/png, \d{3,} bytes$/m);
    // 4. the open case of the failed sample, the recall: holders with their quantities, the shop's acknowledgement, the scan showing it
    expect(out).toMatch(/"holders":\[.*"quantity":500.*\]|"holders":\[.*"quantity":700.*\]/);
    expect(out).toMatch(/\{"id":"[0-9a-f-]{36}","status":"open","lot":"TOM-\d+"\}/);
    expect(out).toMatch(/"recovered":450,"destroyed":0,"sold":50/);
    expect(out).toMatch(/\{"active":true,"level":1,"reason":"毒死蜱残留超标 Chlorpyrifos residue above the limit"\}/);
    // the refusal, in Chinese as asked
    expect(out).toMatch(/\{"type":"https:\/\/problems.trace.dev\/batch-recalled","status":409,"title":"冲突","detail":"该批次已被召回/);
  });
});
