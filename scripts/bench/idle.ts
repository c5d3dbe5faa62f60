/**
 * Idle is idle (issue 14 item 4): what the `npm start` process costs when
 * nobody uses it. The embedded app runs on a throw-away database of its own
 * (so `pg_stat_database` counts no other app's transactions), is left to
 * settle, then measured over a window: statements it sent (counted in the
 * process by count-statements.js, preloaded: the measure), the process's CPU
 * (`/proc/<pid>/stat`), and the transactions the database saw
 * (`xact_commit + xact_rollback`, in the JSON only: autovacuum's work on the
 * hundred new tables counts there too, 1–7 a second whatever the app does).
 * Baseline, in the same window: a bare Node process holding a `pg` pool of
 * five idle connections to the same database, the least an app with a pool costs.
 *
 *   node scripts/run.js scripts/bench/idle.ts [settleSeconds=20] [windowSeconds=60]
 *   # DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test; the name must contain "test")
 *   # BENCH_IDLE_LOG=1: the statements the app sent during the window, on stderr (which job woke)
 *   # TRACE_MAX_OLD_SPACE_MB: npm start's heap cap (default 192)
 *
 * Target (issue 14): ≤ 1 statement/s and ≤ 5 ms CPU/s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { assertTestDatabase, freePort, ServiceProcess, testDatabaseUrl } from '@trace/testing';
import { cpuMs } from './support/measure';

const [settleSeconds, windowSeconds] = [20, 60].map((d, i) => Number(process.argv[3 + i] ?? d));
const COUNTER = resolve(__dirname, 'count-statements.js');

/** The app's statement count so far (count-statements.js answers SIGUSR2 with `STATEMENTS n` on stderr). */
async function statementsOf(proc: ServiceProcess): Promise<number> {
  const seen = proc.output.length;
  proc.child.kill('SIGUSR2');
  for (let i = 0; i < 100; i++) {
    const lines = proc.output.slice(seen).join('').match(/STATEMENTS (\d+)/g);
    if (lines) return Number(lines[lines.length - 1].split(' ')[1]);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the app did not report its statement count');
}

async function transactionsOf(admin: Client, db: string): Promise<number> {
  // A fresh snapshot of the counters (a backend flushes its own at most once a second, and when idle).
  await admin.query('SELECT pg_stat_clear_snapshot()');
  const r = await admin.query<{ n: string }>('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1', [db]);
  return Number(r.rows[0].n);
}

/** The baseline: a bare Node process with a pg pool of five connections, opened, then left alone. */
function barePool(url: string): Promise<ChildProcess> {
  const code = `
    const { Pool } = require('pg');
    const pool = new Pool({ connectionString: ${JSON.stringify(url)}, max: 5, idleTimeoutMillis: 0 });
    Promise.all(Array.from({ length: 5 }, () => pool.connect())).then((cs) => { cs.forEach((c) => c.release()); console.log('ready'); });
    setInterval(() => {}, 1 << 30);`;
  const child = spawn(process.execPath, ['-e', code], { cwd: resolve(__dirname, '../..'), stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((done, fail) => {
    child.once('error', fail);
    child.stdout!.once('data', () => done(child));
  });
}

async function main() {
  const base = testDatabaseUrl();
  const db = `idle_bench_${process.pid}_${Date.now().toString(36)}_test`;
  const url = new URL(base);
  url.pathname = `/${db}`;
  assertTestDatabase(url.toString());
  const admin = new Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${db}"`);
  let proc: ServiceProcess | undefined;
  let bare: ChildProcess | undefined;
  try {
    proc = ServiceProcess.spawnNpmStart(
      {
        DATABASE_URL: url.toString(),
        JWT_SECRET: 'bench-idle-secret-0123456789abcdef012345',
        LOG_LEVEL: 'warn',
        NODE_ENV: 'production',
        NODE_OPTIONS: `--require ${COUNTER}`,
        ...(process.env.BENCH_IDLE_LOG === '1' ? { BENCH_LOG_STATEMENTS: '1' } : {}),
        ...(process.env.TRACE_MAX_OLD_SPACE_MB ? { TRACE_MAX_OLD_SPACE_MB: process.env.TRACE_MAX_OLD_SPACE_MB } : {}),
      },
      await freePort(),
    );
    await proc.ready(180_000);
    bare = await barePool(url.toString());
    await new Promise((r) => setTimeout(r, settleSeconds * 1000));

    const app = proc.child.pid!;
    const t0 = performance.now();
    const [s0, x0, c0, b0] = [await statementsOf(proc), await transactionsOf(admin, db), cpuMs(app), cpuMs(bare.pid!)];
    const logFrom = proc.output.length;
    await new Promise((r) => setTimeout(r, windowSeconds * 1000));
    const [s1, x1, c1, b1] = [await statementsOf(proc), await transactionsOf(admin, db), cpuMs(app), cpuMs(bare.pid!)];
    const seconds = (performance.now() - t0) / 1000;
    if (process.env.BENCH_IDLE_LOG === '1') {
      const sent = proc.output.slice(logFrom).join('').split('\n').filter((l) => l.startsWith('STATEMENT '));
      process.stderr.write(`${sent.join('\n')}\n`);
    }
    // SIGUSR2's own handling is in the window once (one stderr write): negligible, and the same for every run.
    const per = (n: number) => Math.round((n / seconds) * 100) / 100;
    const report = {
      windowSeconds: Math.round(seconds * 10) / 10,
      settleSeconds,
      app: { statementsPerSecond: per(s1 - s0), statements: s1 - s0, transactionsPerSecond: per(x1 - x0), cpuMsPerSecond: per(c1 - c0) },
      bareNodeWithPool: { statementsPerSecond: 0, cpuMsPerSecond: per(b1 - b0) },
      loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    };
    console.log(JSON.stringify(report));
    const row = (benchmark: string, value: number, unit: string, baseline: number) =>
      console.log(`BENCH_RESULT ${JSON.stringify({ benchmark, value, unit, baseline, better: 'lower' })}`);
    row('idle, app statements/s (baseline: bare Node + pg pool; target ≤ 1)', report.app.statementsPerSecond, 'statements/s', 0);
    row('idle, app CPU (baseline: bare Node + pg pool; target ≤ 5)', report.app.cpuMsPerSecond, 'ms CPU/s', report.bareNodeWithPool.cpuMsPerSecond);
  } finally {
    bare?.kill('SIGTERM');
    await proc?.stop('SIGTERM').catch(() => proc?.stop('SIGKILL'));
    // The app's connections are gone once it has exited; FORCE covers a straggler.
    await admin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`).catch((err) => console.error(`could not drop ${db}:`, err));
    await admin.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
