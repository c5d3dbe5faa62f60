import { spawn, execSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { eventually, freePort } from '@trace/testing';

const ROOT = resolve(__dirname, '../..');

/** `npm start` exactly as a user types it (npm → sh → node), with its own data folder and ports. */
function npmStart(env: Record<string, string>): { child: ChildProcess; logs: () => string; exited: Promise<number | null> } {
  const output: string[] = [];
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  return { child, logs: () => output.join(''), exited };
}

const portOpen = async (port: number) => {
  try {
    await fetch(`http://127.0.0.1:${port}/health/live`);
    return true;
  } catch {
    return false;
  }
};
/** Any process (node or postgres) whose command line names this data folder. */
const processesOn = (dir: string) =>
  execSync('ps -eo pid,args')
    .toString()
    .split('\n')
    .filter((l) => l.includes(dir));

/**
 * The start and stop of `npm start` a new user sees: a short banner after the
 * log, one "shutting down", nothing left running whichever process the signal
 * reaches, and a taken PostgreSQL port named with the variable that moves it.
 */
describe('npm start: start-up banner and stopping', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'trace-e2e-npm-start-'));
  // As root, PostgreSQL runs as a user of its own, which must be able to enter this folder.
  chmodSync(dataDir, 0o755);
  const pgDir = join(dataDir, 'pg');
  let run: ReturnType<typeof npmStart> | undefined;
  let blocker: Server | undefined;

  afterAll(async () => {
    if (run && run.child.exitCode === null) run.child.kill('SIGKILL');
    blocker?.close();
    // Whatever a failed run left behind on this test's own folder.
    for (const line of processesOn(pgDir)) {
      const pid = Number(line.trim().split(/\s+/)[0]);
      if (pid) process.kill(pid, 'SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('ends start-up with a banner (URL, docs, first-start admin), and SIGTERM to npm alone stops node and PostgreSQL', async () => {
    const port = await freePort();
    const pgPort = await freePort();
    run = npmStart({ EMBEDDED_PG_DIR: pgDir, EMBEDDED_PG_PORT: String(pgPort), PORT: String(port) });
    const r = run;
    await eventually(async () => {
      if (r.child.exitCode !== null) throw new Error(`npm start exited ${r.child.exitCode}:\n${r.logs().slice(-3000)}`);
      return (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.status === 200;
    }, 90_000, 200);
    const banner = await eventually(async () => /trace backend ready[\s\S]*Stop\s+Ctrl-C/.exec(r.logs())?.[0], 10_000);
    expect(banner).toContain(`API      http://localhost:${port}`);
    expect(banner).toContain(`Docs     http://localhost:${port}/docs`);
    const admin = /Admin\s+clientId=(\S+) clientSecret=(\S+)/.exec(banner);
    expect(admin?.[1]).toBe('admin');
    // The banner's secret is the admin's: it gets a token.
    const token = await fetch(`http://127.0.0.1:${port}/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: admin![1], clientSecret: admin![2] }),
    });
    expect(token.status).toBe(200);
    // Route mapping is debug-level: the info log does not list the ~200 routes.
    expect(r.logs()).not.toMatch(/Mapped \{/);
    expect(r.logs()).not.toMatch(/"context":"InstanceLoader"/);
    // The app runs the sources compiled ahead (scripts/start.js): no compiler loaded in it (110 MB of its idle memory).
    const node = execSync(`ps -o pid= --ppid ${r.child.pid}`).toString().trim().split(/\s+/).map(Number)[0];
    expect(readFileSync(`/proc/${node}/cmdline`, 'utf8').split('\0')).toEqual(expect.arrayContaining(['--max-old-space-size=192', 'scripts/start.js']));
    expect(readFileSync(`/proc/${node}/maps`, 'utf8')).not.toMatch(/swc/);

    // What `timeout` and `kill <pid>` do: SIGTERM to the npm process only.
    expect(processesOn(pgDir).length).toBeGreaterThan(0);
    r.child.kill('SIGTERM');
    await eventually(async () => !(await portOpen(port)), 30_000, 200);
    await eventually(async () => processesOn(pgDir).length === 0, 30_000, 200);
    await r.exited;
    expect(await portOpen(port)).toBe(false);
    expect(processesOn(pgDir)).toEqual([]);
    expect(r.logs()).toContain('"msg":"stopped"');
    // Nine services in one process announce their shutdown once.
    expect(r.logs().match(/shutting down/g)).toHaveLength(1);
  });

  it('stops node and PostgreSQL when npm dies without passing a signal on (SIGKILL)', async () => {
    const port = await freePort();
    const pgPort = await freePort();
    run = npmStart({ EMBEDDED_PG_DIR: pgDir, EMBEDDED_PG_PORT: String(pgPort), PORT: String(port) });
    const r = run;
    await eventually(async () => {
      if (r.child.exitCode !== null) throw new Error(`npm start exited ${r.child.exitCode}:\n${r.logs().slice(-3000)}`);
      return (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.status === 200;
    }, 90_000, 200);
    // A restart on the same folder: no admin secret this time.
    expect(r.logs()).not.toContain('Admin    clientId=');
    r.child.kill('SIGKILL');
    await eventually(async () => !(await portOpen(port)), 30_000, 200);
    await eventually(async () => processesOn(pgDir).length === 0, 30_000, 200);
    expect(processesOn(pgDir)).toEqual([]);
  });

  it('names the taken PostgreSQL port and the variable that moves it', async () => {
    const port = await freePort();
    const pgPort = await freePort();
    blocker = createServer();
    await new Promise<void>((ok) => blocker!.listen(pgPort, '127.0.0.1', ok));
    run = npmStart({ EMBEDDED_PG_DIR: pgDir, EMBEDDED_PG_PORT: String(pgPort), PORT: String(port) });
    const code = await run.exited;
    expect(code).not.toBe(0);
    expect(run.logs()).toContain(`port ${pgPort} for embedded PostgreSQL is already in use; set EMBEDDED_PG_PORT to a free port`);
    expect(run.logs()).not.toMatch(/^undefined$/m);
  });
});
