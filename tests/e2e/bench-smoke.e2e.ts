import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/**
 * Benchmarks nobody runs stop working unnoticed (lineage-trace.ts once did for
 * weeks). `npm run bench -- --smoke` runs every one of them in a size of
 * seconds, against the test PostgreSQL; a benchmark that throws, exits
 * non-zero or no longer prints what the table is read from fails this test.
 */
describe('benchmarks (smoke sizes)', () => {
  it('every benchmark in scripts/bench runs and reports its numbers', async () => {
    const output: string[] = [];
    const code = await new Promise<number | null>((done, fail) => {
      const child = spawn('npm', ['run', 'bench', '--', '--smoke'], {
        cwd: ROOT,
        env: { ...process.env, LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.on('data', (d: Buffer) => output.push(d.toString()));
      child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
      child.on('error', fail);
      child.on('close', done);
    });
    const logs = output.join('');
    if (code !== 0) throw new Error(`npm run bench -- --smoke exited ${code}:\n${logs.slice(-6000)}`);
    // Every benchmark file ran (all.ts also refuses to run when one is missing from its list), and one table.
    const benchmarks = readdirSync(resolve(ROOT, 'scripts/bench')).filter((f) => f.endsWith('.ts') && !f.startsWith('.') && f !== 'all.ts');
    expect(benchmarks.length).toBeGreaterThanOrEqual(8);
    for (const f of benchmarks) expect(logs).toContain(`=== ${f.replace(/\.ts$/, '')}: exit 0`);
    expect(logs).toMatch(/\| benchmark \| value \| baseline \| ratio \|/);
    expect(logs).toMatch(/\| cached scan, JSON, server CPU per request \| [\d.]+ ms CPU \| [\d.]+ ms CPU \| [\d.]+ \|/);
    // Issue 14 item 2's evidence: both adapters and the bare server measured in the same run.
    expect(logs).toMatch(/\| POST \(RecordEventDto validated, no database\), fastify CPU per request vs express \| [\d.]+ ms CPU \| [\d.]+ ms CPU \| [\d.]+ \|/);
  }, 480_000); // measured 162 s with other suites sharing the two cores (load average 15–28)
});
