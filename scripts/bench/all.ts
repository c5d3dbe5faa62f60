/**
 * Every benchmark in scripts/bench/, each with its baseline, one after the
 * other (never in parallel: they would measure each other), then one table.
 *
 *   npm run bench                       # full sizes (tens of minutes: 1M-row generations)
 *   npm run bench -- --smoke            # each in a size that runs in seconds (what CI runs)
 *   npm run bench -- --only scan-load   # some of them (comma-separated names)
 *   # DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test; the name must contain "test")
 *
 * A benchmark is a script that prints its own report; this runner passes it
 * its size (arguments and environment, full or smoke) and reads the numbers
 * off its output. A benchmark that exits non-zero, or whose output no longer
 * has the numbers it is read for, fails the run (exit 1): that is what makes a
 * benchmark that stopped working visible (tests/e2e/bench-smoke.e2e.ts runs
 * the smoke sizes). Ratio: how close the app is to its baseline, 1 = as good;
 * value / baseline where more is better, baseline / value where less is.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

interface BenchRow {
  benchmark: string;
  value: number;
  unit: string;
  /** The same work without the app around it, measured in the same run; absent where a benchmark has none yet. */
  baseline?: number;
  better: 'higher' | 'lower';
}

interface Bench {
  name: string;
  file: string;
  full: { args?: string[]; env?: Record<string, string> };
  smoke: { args?: string[]; env?: Record<string, string> };
  /** The rows read off the benchmark's output; anything missing throws. */
  rows(out: string): BenchRow[];
}

/** A number after `label` in the output; throws when the output no longer has it. */
function num(out: string, pattern: RegExp, what: string): number {
  const m = pattern.exec(out);
  const v = m ? Number(m[1]) : NaN;
  if (!Number.isFinite(v)) throw new Error(`output has no ${what} (${pattern})`);
  return v;
}

/** The last line of the output that is a JSON object with `key`. */
function lastJson(out: string, key: string): Record<string, unknown> {
  const lines = out.split('\n').filter((l) => l.startsWith('{') && l.includes(`"${key}"`));
  if (!lines.length) throw new Error(`output has no JSON line with "${key}"`);
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
}

function field(o: Record<string, unknown>, key: string): number {
  const v = Number(o[key]);
  if (!Number.isFinite(v)) throw new Error(`"${key}" is ${JSON.stringify(o[key])} in ${JSON.stringify(o)}`);
  return v;
}

/** Lines `BENCH_RESULT {json BenchRow}`: the form a benchmark written for this runner prints. */
function resultLines(out: string): BenchRow[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('BENCH_RESULT '))
    .map((l) => JSON.parse(l.slice('BENCH_RESULT '.length)) as BenchRow);
}

/** A benchmark's rows parser: its BENCH_RESULT lines, failing the run when there are fewer (or, with `exactly`, other) than it prints. */
function resultRows(expected: { atLeast: number } | { exactly: number }): (out: string) => BenchRow[] {
  return (out) => {
    const rows = resultLines(out);
    const ok = 'exactly' in expected ? rows.length === expected.exactly : rows.length >= expected.atLeast;
    const wanted = 'exactly' in expected ? `${expected.exactly}` : `at least ${expected.atLeast}`;
    if (!ok) throw new Error(`output has ${rows.length} BENCH_RESULT lines, expected ${wanted}`);
    return rows;
  };
}

const BENCHMARKS: Bench[] = [
  {
    name: 'backbone-throughput',
    file: 'backbone-throughput.ts',
    full: { args: ['5000', 'embedded'] },
    smoke: { args: ['200', 'embedded'] },
    rows: (out) => [
      {
        benchmark: 'backbone, embedded, end to end vs plain INSERT',
        value: field(lastJson(out, 'eventsPerSecond'), 'eventsPerSecond'),
        baseline: field(lastJson(out, 'plainInsertsPerSecond'), 'plainInsertsPerSecond'),
        unit: 'events/s',
        better: 'higher',
      },
    ],
  },
  {
    name: 'epcis-capture',
    file: 'epcis-capture.ts',
    full: { env: { BENCH_MODE: 'rollback' } },
    smoke: { env: { BENCH_EVENTS: '200', BENCH_LOTS: '20', BENCH_MODE: 'rollback' } },
    rows: (out) => [
      { benchmark: 'EPCIS capture, first capture', value: num(out, /first capture: .*?→ (\d+) events\/s/, 'first capture events/s'), unit: 'events/s', better: 'higher' },
      { benchmark: 'EPCIS capture, all duplicates', value: num(out, /all duplicates\): .*?→ (\d+) events\/s/, 'duplicate capture events/s'), unit: 'events/s', better: 'higher' },
    ],
  },
  {
    // The same capture against `npm start` in its own process: what a user runs (compiled, heap-capped).
    name: 'epcis-capture-npm-start',
    file: 'epcis-capture.ts',
    full: { env: { BENCH_MODE: 'rollback', BENCH_TARGET: 'npm-start' } },
    smoke: { env: { BENCH_EVENTS: '200', BENCH_LOTS: '20', BENCH_MODE: 'rollback', BENCH_TARGET: 'npm-start' } },
    rows: (out) => [
      { benchmark: 'EPCIS capture (npm start), first capture', value: num(out, /first capture: .*?→ (\d+) events\/s/, 'first capture events/s'), unit: 'events/s', better: 'higher' },
      { benchmark: 'EPCIS capture (npm start), all duplicates', value: num(out, /all duplicates\): .*?→ (\d+) events\/s/, 'duplicate capture events/s'), unit: 'events/s', better: 'higher' },
    ],
  },
  {
    name: 'lineage-trace',
    file: 'lineage-trace.ts',
    full: {},
    smoke: { env: { BENCH_NODES: '2000', BENCH_TRACES: '50', BENCH_HTTP: '20', BENCH_SQL_BASELINE: '20' } },
    rows: (out) => {
      const cte = num(out, /SQL baseline\s+p50 ([\d.]+)/, 'SQL baseline p50');
      return [
        { benchmark: 'trace p50 (in the service) vs recursive CTE', value: num(out, /inspector\s+p50 ([\d.]+)/, 'inspector p50'), unit: 'ms', baseline: cte, better: 'lower' },
        { benchmark: 'trace p50 over HTTP vs recursive CTE', value: num(out, /HTTP\s+p50 ([\d.]+)/, 'HTTP p50'), unit: 'ms', baseline: cte, better: 'lower' },
      ];
    },
  },
  {
    name: 'list-search',
    file: 'list-search.ts',
    full: {},
    smoke: { env: { BENCH_BATCHES: '5000', BENCH_PAGES: '20' } },
    rows: (out) => {
      const cases = [...out.matchAll(/^ {2}(\S.*?)\s+items\/page\s+\d+\n\s+service\s+p50 [\d.]+\s+p95 [\d.]+\s+p99 ([\d.]+).*\n\s+bare SQL\s+p50 [\d.]+\s+p95 [\d.]+\s+p99 ([\d.]+)/gm)];
      if (cases.length < 11) throw new Error(`output has ${cases.length} list/search cases, expected 11`);
      return cases.map((m) => ({ benchmark: `list: ${m[1]}, p99`, value: Number(m[2]), unit: 'ms', baseline: Number(m[3]), better: 'lower' as const }));
    },
  },
  {
    name: 'recall-propagation',
    file: 'recall-propagation.ts',
    full: { args: ['100', '2', '3', 'embedded'] },
    smoke: { args: ['5', '2', '1', 'embedded'], env: { BENCH_WARMUP: '0' } },
    rows: (out) => {
      const s = lastJson(out, 'summary');
      return [{ benchmark: `recall propagation, ${field(s, 'batches')} batches, all recalled (median)`, value: field(s, 'allRecalledMsMedian'), unit: 'ms', better: 'lower' }];
    },
  },
  {
    name: 'recall-scope',
    file: 'recall-scope.ts',
    full: {},
    smoke: { args: ['20000', '10'] },
    rows: (out) => {
      const s = lastJson(out, 'scopeBatches');
      return [{ benchmark: `recall scope in memory, ${field(s, 'scopeBatches')} batches, p50`, value: field(s, 'p50ms'), unit: 'ms', better: 'lower' }];
    },
  },
  {
    name: 'scan-load',
    file: 'scan-load.ts',
    full: {},
    smoke: { args: ['5', '1', '4'], env: { BENCH_SMOKE: '1' } },
    rows: resultRows({ atLeast: 3 }),
  },
  {
    name: 'http-adapter',
    file: 'http-adapter.ts',
    full: {},
    smoke: { env: { BENCH_SECONDS: '1', BENCH_ROUNDS: '1', BENCH_WARMUP: '0' } },
    rows: resultRows({ exactly: 16 }),
  },
  {
    name: 'write-path',
    file: 'write-path.ts',
    full: {},
    smoke: { env: { BENCH_SECONDS: '1', BENCH_ROUNDS: '1', BENCH_BATCHES: '16' } },
    rows: resultRows({ atLeast: 8 }),
  },
  {
    name: 'memory',
    file: 'memory.ts',
    full: { args: ['2000', '10', '20'] },
    smoke: { args: ['50', '2', '4'] },
    rows: resultRows({ atLeast: 3 }),
  },
  {
    name: 'lineage-node-updates',
    file: 'lineage-node-updates.ts',
    full: { args: ['100000', '2000', '20', '4'] },
    smoke: { args: ['2000', '50', '20', '2'] },
    rows: resultRows({ exactly: 1 }),
  },
  {
    name: 'idle',
    file: 'idle.ts',
    full: { args: ['20', '60'] },
    smoke: { args: ['2', '5'] },
    rows: resultRows({ atLeast: 2 }),
  },
  {
    name: 'plans',
    file: 'plans.ts',
    // The demo's workload, every statement EXPLAINed on its tables grown to each size, then the queues' readers
    // executed on stale statistics; the smoke run stops at 10k.
    full: { args: ['1000,10000,1000000'] },
    smoke: { args: ['1000,10000'] },
    // Plans at the largest size, and plans of the queues under stale statistics.
    rows: resultRows({ exactly: 2 }),
  },
  {
    name: 'webhook-recall',
    file: 'webhook-recall.ts',
    full: {},
    smoke: { args: ['3', '1'], env: { BENCH_WARMUP: '0' } },
    rows: (out) => {
      const s = lastJson(out, 'summary');
      return [{ benchmark: `webhook recall, ${field(s, 'holders')} holders, last delivery (median)`, value: field(s, 'lastDeliveryMsMedian'), unit: 'ms', better: 'lower' }];
    },
  },
];

function ratio(r: BenchRow): number | undefined {
  if (r.baseline === undefined || !r.value || !r.baseline) return undefined;
  return r.better === 'higher' ? r.value / r.baseline : r.baseline / r.value;
}

function run(b: Bench, smoke: boolean): Promise<{ code: number | null; out: string; seconds: number }> {
  const size = smoke ? b.smoke : b.full;
  const started = performance.now();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts/run.js'), join('scripts/bench', b.file), ...(size.args ?? [])], {
      cwd: ROOT,
      env: { ...process.env, ...size.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    // The benchmark's own report goes on as it runs (stderr: stdout is the table's), and is kept to be read.
    child.stdout.on('data', (d: Buffer) => {
      chunks.push(d);
      process.stderr.write(d);
    });
    child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, out: Buffer.concat(chunks).toString(), seconds: (performance.now() - started) / 1000 }));
  });
}

const fmt = (n: number | undefined) => (n === undefined ? '—' : n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(2) : n.toFixed(3));

async function main() {
  const argv = process.argv.slice(3);
  const smoke = argv.includes('--smoke');
  const onlyArg = argv.find((a, i) => argv[i - 1] === '--only' || a.startsWith('--only='));
  const only = onlyArg ? new Set(onlyArg.replace(/^--only=/, '').split(',')) : undefined;
  const chosen = BENCHMARKS.filter((b) => !only || only.has(b.name));
  if (only && chosen.length !== only.size) throw new Error(`unknown benchmark in --only; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
  // A benchmark added without its sizes and numbers here would never run: refuse.
  // (Hidden files are someone's scratch, not benchmarks.)
  const unlisted = readdirSync(__dirname).filter((f) => f.endsWith('.ts') && !f.startsWith('.') && f !== 'all.ts' && !BENCHMARKS.some((b) => b.file === f));
  if (unlisted.length) throw new Error(`not in scripts/bench/all.ts's BENCHMARKS: ${unlisted.join(', ')}`);
  process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
  const rows: BenchRow[] = [];
  const failures: string[] = [];
  const loads: string[] = [];
  for (const b of chosen) {
    process.stderr.write(`\n=== ${b.name}${smoke ? ' (smoke)' : ''}\n`);
    const { code, out, seconds } = await run(b, smoke);
    loads.push(`${b.name} ${loadavg()[0].toFixed(1)}`);
    process.stderr.write(`=== ${b.name}: exit ${code} after ${seconds.toFixed(1)} s\n`);
    if (code !== 0) {
      failures.push(`${b.name}: exited ${code}`);
      continue;
    }
    try {
      rows.push(...b.rows(out));
    } catch (err) {
      failures.push(`${b.name}: ${(err as Error).message}`);
    }
  }
  const lines = [
    '',
    `${smoke ? 'SMOKE sizes (numbers mean nothing, only that each runs)' : 'full sizes'}, Node ${process.version}, load average (1 min) after each: ${loads.join(', ')}`,
    '',
    '| benchmark | value | baseline | ratio |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.benchmark} | ${fmt(r.value)} ${r.unit} | ${r.baseline === undefined ? '—' : `${fmt(r.baseline)} ${r.unit}`} | ${fmt(ratio(r))} |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (failures.length) {
    process.stdout.write(`\nFAILED:\n${failures.map((f) => `  ${f}`).join('\n')}\n`);
    process.exit(1);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
