import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

/** A real service process, started the way a user or an orchestrator starts it. */
export class ServiceProcess {
  readonly output: string[] = [];
  private exited?: Promise<number | null>;

  private constructor(
    readonly name: string,
    readonly port: number,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (d: Buffer) => this.output.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => this.output.push(d.toString()));
    // 'close' (not 'exit'): resolves once the output has been read to its end, so logs() is complete.
    this.exited = new Promise((r) => child.once('close', (code) => r(code)));
  }

  /** `nodeArgs`: options for node itself, those NODE_OPTIONS refuses (--cpu-prof). */
  static spawn(name: string, entry: string, env: NodeJS.ProcessEnv, port: number, nodeArgs: string[] = []): ServiceProcess {
    const child = spawn(process.execPath, [...nodeArgs, resolve(ROOT, 'scripts/run.js'), entry], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ServiceProcess(name, port, child);
  }

  /**
   * The embedded app as `npm start` runs it: package.json's start script (its heap cap,
   * scripts/start.js) through `sh`, whose `exec` makes the child the node process itself.
   */
  static spawnNpmStart(env: NodeJS.ProcessEnv, port: number): ServiceProcess {
    const script = (JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
    const child = spawn('sh', ['-c', script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ServiceProcess('npm start', port, child);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  logs(): string {
    return this.output.join('');
  }

  /** Waits for /health/ready = 200; returns how long it took. */
  async ready(timeoutMs = 60_000): Promise<number> {
    const started = Date.now();
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`${this.name} exited with ${this.child.exitCode}:\n${this.logs().slice(-4000)}`);
      try {
        const r = await fetch(`${this.url}/health/ready`);
        if (r.status === 200) return Date.now() - started;
      } catch {
        // not listening yet
      }
      if (Date.now() - started > timeoutMs) throw new Error(`${this.name} not ready after ${timeoutMs} ms:\n${this.logs().slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async exitCode(timeoutMs = 30_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, rej) => {
      timer = setTimeout(() => rej(new Error(`${this.name} did not exit within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited as Promise<number | null>, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a signal (SIGINT is Ctrl-C) and waits for the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    this.child.kill(signal);
    try {
      return await this.exitCode(timeoutMs);
    } catch (err) {
      this.child.kill('SIGKILL');
      throw err;
    }
  }
}
