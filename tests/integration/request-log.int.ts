import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/** The child's standard output, one JSON object a line, until it is gone (here: killed by SIGKILL or exited). */
function run(mode: 'error' | 'exit' | 'idle'): Promise<{ lines: { level: string; msg: string; i?: number; status?: number }[]; at: number[] }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [resolve(ROOT, 'scripts/run.js'), 'tests/fixtures/logging/request-log-child.ts', mode], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const started = Date.now();
    const at: number[] = [];
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      at.push(Date.now() - started);
    });
    child.on('error', fail);
    child.on('close', () => done({ lines: out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)), at }));
  });
}

/**
 * Request lines are batched (no write per request) yet not lost: they go out
 * before any other line, within the flush interval, and at exit; a failure's
 * line is written at once, so a process killed right after still has it.
 */
describe('request log lines', () => {
  it('go out before an error line, which is written at once (the process is SIGKILLed right after it)', async () => {
    const { lines } = await run('error');
    expect(lines.map((l) => [l.level, l.i ?? l.status])).toEqual([
      ['info', 0],
      ['info', 1],
      ['info', 2],
      ['error', 500],
    ]);
  });

  it('go out at exit', async () => {
    const { lines } = await run('exit');
    expect(lines.map((l) => l.i)).toEqual([0, 1, 2]);
  });

  it('go out within the flush interval when nothing else is logged, in one write', async () => {
    const { lines, at } = await run('idle');
    expect(lines.map((l) => l.i)).toEqual([0, 1, 2]);
    // All three arrived together, well before the SIGKILL at 1 s.
    expect(at).toHaveLength(1);
  });
});
