/**
 * What the HTTP benchmarks share: the server process's CPU time from /proc
 * and one autocannon load of a server with the CPU it spent per request.
 * (In a folder of its own: scripts/bench/all.ts takes every .ts file beside
 * it for a benchmark.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import autocannon, { type Request as AutocannonRequest } from 'autocannon';

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU time (user + system) a process has used so far, in ms: load-independent, unlike latency on a shared machine. */
export function cpuMs(pid: number): number {
  return ticksMs(statFields(pid), 11, 12); // utime, stime
}

/** Clock-tick fields of /proc/<pid>/stat (after the command name), summed, as ms (USER_HZ = 100). */
function ticksMs(fields: string[], ...indexes: number[]): number {
  let ticks = 0;
  for (const i of indexes) ticks += Number(fields[i]);
  return (ticks * 1000) / 100;
}

/** System (kernel) CPU time of a process so far, in ms. */
export function sysMs(pid: number): number {
  return ticksMs(statFields(pid), 12); // stime
}

/**
 * CPU time so far of every PostgreSQL process of this machine, in ms, the ended ones included: the
 * database's share of a run beside the app's. Counts other clusters' work too; measure on a quiet machine.
 */
export function postgresCpuMs(): number {
  let ms = 0;
  const postgres = new Map<string, string[]>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'postgres') continue;
      const fields = statFields(Number(pid));
      postgres.set(pid, fields);
      ms += ticksMs(fields, 11, 12);
    } catch {
      // the process ended meanwhile
    }
  }
  // A backend that ended (a pool's connection closed) takes its CPU with it, unless it is counted where the
  // kernel puts it once reaped: in its postmaster's cutime and cstime. Without them the sum can go down.
  for (const fields of postgres.values()) if (!postgres.has(fields[1])) ms += ticksMs(fields, 13, 14);
  return ms;
}

/** A process's resident set now and at its peak (kB from /proc, in MB). */
export function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: Math.round(kb('VmRSS') / 102.4) / 10, peakMb: Math.round(kb('VmHWM') / 102.4) / 10 };
}

/** CPU ms so far of the main thread of `pid` (JavaScript) and of its other threads (V8's GC helpers, libuv's pool). */
export function threadCpuMs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
      const name = tid === String(pid) ? 'main' : 'other threads';
      out.set(name, (out.get(name) ?? 0) + ((Number(f[11]) + Number(f[12])) * 1000) / 100);
    } catch {
      // the thread ended
    }
  }
  return out;
}

/**
 * The scheduler's account of a process's main thread so far: ms it ran, ms it waited runnable in the run
 * queue (ready, another task on its core), and how often it was taken off the core against its will
 * (`/proc/<pid>/task/<pid>/schedstat` and `status`). On a two-core machine a statement written to a
 * PostgreSQL socket wakes a backend that often takes the writer's own core: the wait is wall time the
 * writer loses without using any CPU, which no CPU profile shows as such (it lands on `writev`).
 */
export function mainThreadSchedule(pid: number): { runMs: number; waitMs: number; involuntarySwitches: number } {
  const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ').map(Number);
  const status = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
  return { runMs: run / 1e6, waitMs: wait / 1e6, involuntarySwitches: Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? NaN) };
}

/** A server under load: where to send requests, and the process whose CPU is counted. */
export interface Target {
  url: string;
  pid: number;
}

export interface LoadRow {
  scenario: string;
  requests: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  non2xx: number;
  cpuMsPerRequest: number;
  /** Of which the kernel's (system time): the socket writes, mostly. */
  sysMsPerRequest: number;
}

/** The monotonic clock in µs: the one V8 stamps a CPU profile's samples with. */
export const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

export interface LoadOptions {
  seconds: number;
  connections: number;
  /** Requests per second in all, at most (autocannon's limit); unset, as fast as the server answers. */
  overallRate?: number;
  headers?: Record<string, string>;
  /** autocannon's request list (method, path, body, or a setupRequest that varies them). */
  requests?: AutocannonRequest[];
  /** Print `THREADS …`: the CPU the server spent by thread during the load. */
  threads?: boolean;
  /** Print `PHASE <scenario> <from> <to>` (monotonic µs), to cut a CPU profile by scenario (cpu-profile-top.js). */
  phases?: boolean;
}

/** Loads `proc` with autocannon on loopback; rate, latency and the server's CPU (user + system) per request answered. */
export async function load(scenario: string, proc: Target, opts: LoadOptions): Promise<LoadRow> {
  const cpuBefore = cpuMs(proc.pid);
  const sysBefore = sysMs(proc.pid);
  const threadsBefore = opts.threads ? threadCpuMs(proc.pid) : undefined;
  const from = monotonicUs();
  const result = await autocannon({
    url: proc.url,
    connections: opts.connections,
    duration: opts.seconds,
    ...(opts.overallRate ? { overallRate: opts.overallRate } : {}),
    headers: opts.headers,
    requests: opts.requests,
  });
  if (opts.phases) console.log(`PHASE ${JSON.stringify(scenario)} ${from} ${monotonicUs()}`);
  if (threadsBefore) {
    const spent = [...threadCpuMs(proc.pid)].map(([name, ms]) => `${name} ${Math.round(ms - (threadsBefore.get(name) ?? 0))}`);
    console.log(`THREADS ${scenario} (${result.requests.total} requests, CPU ms by thread): ${spent.join(', ')}`);
  }
  return {
    scenario,
    requests: result.requests.total,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    non2xx: result.non2xx + result.errors + result.timeouts,
    cpuMsPerRequest: Math.round(((cpuMs(proc.pid) - cpuBefore) / result.requests.total) * 1000) / 1000,
    sysMsPerRequest: Math.round(((sysMs(proc.pid) - sysBefore) / result.requests.total) * 1000) / 1000,
  };
}
