import { ConfigError } from '../config';

export interface WebhookOptions {
  /** WEBHOOK_ALLOW_PRIVATE=true: loopback and private addresses are allowed (tests, a developer's machine). Link-local and metadata never are. */
  allowPrivate: boolean;
  /** WEBHOOK_WORKER=false: this process writes deliveries but does not send them (another replica does). */
  worker: boolean;
  /** First retry after about this long, doubling (WEBHOOK_RETRY_BASE_MS, default 10 s)... */
  retryBaseMs: number;
  /** ...up to this pause between tries (WEBHOOK_RETRY_MAX_MS, default 1 h)... */
  retryMaxMs: number;
  /** ...for at least this long after the event (WEBHOOK_RETRY_FOR_MS, default 24 h); then the delivery is `failed`. */
  retryForMs: number;
  /** How long a receiver has to answer (WEBHOOK_TIMEOUT_MS, default 10 s). */
  timeoutMs: number;
  /** The worker looks for due deliveries at least this often (WEBHOOK_POLL_MS, default 1 s); new ones wake it at once. */
  pollMs: number;
}

export const WEBHOOK_OPTIONS = Symbol('WEBHOOK_OPTIONS');

const HOUR = 3_600_000;

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean, problems: string[]): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  problems.push(`${name}=${JSON.stringify(env[name])}: must be true or false`);
  return fallback;
}

/** A period in milliseconds from `env[name]`, at least 100 ms (none of these may be off); `fallback` when unset. */
function periodMs(env: NodeJS.ProcessEnv, name: string, fallback: number, problems: string[]): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const ms = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
  if (!(ms >= 100)) problems.push(`${name}=${JSON.stringify(env[name])}: must be a whole number of milliseconds, at least 100`);
  return ms;
}

export function webhookOptions(env: NodeJS.ProcessEnv = process.env): WebhookOptions {
  const problems: string[] = [];
  const options: WebhookOptions = {
    allowPrivate: flag(env, 'WEBHOOK_ALLOW_PRIVATE', false, problems),
    worker: flag(env, 'WEBHOOK_WORKER', true, problems),
    retryBaseMs: periodMs(env, 'WEBHOOK_RETRY_BASE_MS', 10_000, problems),
    retryMaxMs: periodMs(env, 'WEBHOOK_RETRY_MAX_MS', HOUR, problems),
    retryForMs: periodMs(env, 'WEBHOOK_RETRY_FOR_MS', 24 * HOUR, problems),
    timeoutMs: periodMs(env, 'WEBHOOK_TIMEOUT_MS', 10_000, problems),
    pollMs: periodMs(env, 'WEBHOOK_POLL_MS', 1_000, problems),
  };
  if (problems.length) throw new ConfigError(problems);
  return options;
}
