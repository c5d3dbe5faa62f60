/**
 * npm run import -- <file.csv|file.xlsx> [--domain agri] [--url http://localhost:8080]
 *                   [--client-id … --client-secret …]
 *
 * Sends a spreadsheet of products and batches to POST /v1/{domain}/imports
 * as an operator, then follows the job with a progress bar until it ends and
 * prints the rows that failed. Exit code 0: every row imported (or already
 * there); 2: some rows failed; 1: the import could not run.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { ApiError, Client, DEFAULT_URL, option } from '../cli/client';

const MEDIA: Record<string, string> = {
  '.csv': 'text/csv',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};
const DOMAINS = ['agri', 'food', 'drug', 'material', 'goods'];

interface Job {
  id: string;
  status: 'running' | 'completed' | 'failed';
  total: number;
  processed: number;
  productsCreated: number;
  productsExisting: number;
  batchesCreated: number;
  batchesExisting: number;
  failedRows: number;
  errors: { row: number; type: string; status: number; detail: string }[];
  failure?: string;
}

/** `[#########.........]  45%  450/1000 rows  3 failed`: one line, redrawn in place on a terminal. */
export function progressBar(job: Pick<Job, 'processed' | 'total' | 'failedRows'>, width = 30): string {
  const share = job.total ? Math.min(1, job.processed / job.total) : 1;
  const filled = Math.round(share * width);
  const pct = `${Math.floor(share * 100)}%`.padStart(4);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}  ${job.processed}/${job.total} rows${job.failedRows ? `  ${job.failedRows} failed` : ''}`;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(3);
  const file = argv.find((a, i) => !a.startsWith('--') && !(i > 0 && argv[i - 1].startsWith('--') && !argv[i - 1].includes('=')));
  const domain = option(argv, 'domain', 'TRACE_DOMAIN', 'agri') as string;
  const baseUrl = (option(argv, 'url', 'TRACE_URL', DEFAULT_URL) as string).replace(/\/+$/, '');
  const clientId = option(argv, 'client-id', 'TRACE_CLIENT_ID');
  const clientSecret = option(argv, 'client-secret', 'TRACE_CLIENT_SECRET');
  if (!file) throw new Error('usage: npm run import -- <file.csv|file.xlsx> [--domain agri] [--url …] [--client-id … --client-secret …]');
  const type = MEDIA[extname(file).toLowerCase()];
  if (!type) throw new Error(`${file}: a .csv or .xlsx file, please`);
  if (!DOMAINS.includes(domain)) throw new Error(`--domain is one of ${DOMAINS.join(', ')}`);
  if (!clientId || !clientSecret) throw new Error('an operator client is needed: --client-id and --client-secret (or TRACE_CLIENT_ID, TRACE_CLIENT_SECRET)');

  const api = await new Client(baseUrl).signIn(clientId, clientSecret);
  const posted = await api.send('POST', `/v1/${domain}/imports`, readFileSync(file), { 'content-type': type });
  if (posted.status !== 202) throw new ApiError(posted.status, posted.body, `POST /v1/${domain}/imports`);
  let job = posted.body as Job;
  const tty = process.stderr.isTTY;
  process.stderr.write(`importing ${file} into ${domain}: job ${job.id}\n`);
  let last = '';
  for (;;) {
    const bar = progressBar(job);
    // On a terminal the bar is redrawn in place; in a log, a line when it changes.
    if (tty) process.stderr.write(`\r${bar}`);
    else if (bar !== last) process.stderr.write(`${bar}\n`);
    last = bar;
    if (job.status !== 'running') break;
    await new Promise((r) => setTimeout(r, 300));
    const r = await api.get(`/v1/${domain}/imports/${job.id}`);
    if (r.status !== 200) throw new ApiError(r.status, r.body, `GET /v1/${domain}/imports/${job.id}`);
    job = r.body as Job;
  }
  if (tty) process.stderr.write('\n');
  if (job.status === 'failed') throw new Error(`the import stopped: ${job.failure ?? 'unknown reason'}`);
  process.stdout.write(
    `done: ${job.processed} rows; products ${job.productsCreated} created, ${job.productsExisting} already there; ` +
      `batches ${job.batchesCreated} created, ${job.batchesExisting} already there; ${job.failedRows} rows failed\n`,
  );
  for (const e of job.errors) process.stdout.write(`  row ${e.row}: ${e.status} ${e.type}: ${e.detail}\n`);
  if (job.failedRows > job.errors.length) process.stdout.write(`  … and ${job.failedRows - job.errors.length} more (GET /v1/${domain}/imports/${job.id})\n`);
  return job.failedRows ? 2 : 0;
}

if (require.main === module || process.argv[2]?.endsWith('import.ts')) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`import failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
