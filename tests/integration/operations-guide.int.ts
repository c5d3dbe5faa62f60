import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const GUIDE = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return ['node_modules', 'gen', 'testing'].includes(name) ? [] : sources(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });
}

const CODE = [...sources(join(ROOT, 'services')), ...sources(join(ROOT, 'libs'))].map((f) => ({ file: relative(ROOT, f), text: readFileSync(f, 'utf8') }));

/** The variables of PlatformConfig (libs/platform/src/config.ts) and every name the code looks up in an environment. */
function variablesInCode(): Map<string, string> {
  const found = new Map<string, string>();
  const note = (name: string, file: string) => found.has(name) || found.set(name, file);
  const config = CODE.find((c) => c.file === join('libs', 'platform', 'src', 'config.ts'))!;
  const body = config.text.slice(config.text.indexOf('export class PlatformConfig'));
  for (const m of body.slice(0, body.indexOf('\n}\n')).matchAll(/^ {2}([A-Z][A-Z0-9_]+)[?!]?(?::|\s=)/gm)) note(m[1], config.file);
  for (const { file, text } of CODE) {
    for (const m of text.matchAll(/\benv\.([A-Z][A-Z0-9_]{2,})\b|\benv\[\s*'([A-Z][A-Z0-9_]+)'\s*\]/g)) note(m[1] ?? m[2], file);
    // Option parsers take the environment and a variable's name: num(env, 'WEBHOOK_POLL_MS', …).
    for (const line of text.split('\n').filter((l) => /\benv\b/.test(l))) {
      for (const m of line.matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g)) if (!/^(DEFAULT|ERR)_/.test(m[1])) note(m[1], file);
    }
  }
  return found;
}

/** Metric names the code registers (Metrics.counter/gauge/scrapedGauge, and the HTTP histogram). */
function metricsInCode(): Set<string> {
  const names = new Set<string>();
  for (const { text } of CODE) {
    for (const m of text.matchAll(/\b(?:counter|gauge|scrapedGauge|histogram)\(\s*'([a-z][a-z0-9_]+)'/g)) names.add(m[1]);
    for (const m of text.matchAll(/new Histogram\(\{\s*name:\s*'([a-z][a-z0-9_]+)'/g)) names.add(m[1]);
  }
  return names;
}

describe('docs/operations.md names what the code reads and exports', () => {
  it('finds the variables and metrics (the scan itself works)', () => {
    const vars = variablesInCode();
    for (const v of ['DATABASE_URL', 'JWT_SECRET', 'WEBHOOK_RETRY_BASE_MS', 'RECALL_DEADLINES', 'EPCIS_DOMAINS', 'TRUST_PROXY_HOPS']) expect([v, vars.has(v)]).toEqual([v, true]);
    const metrics = metricsInCode();
    for (const m of ['http_request_duration_seconds', 'outbox_unsent_events', 'kafka_consumer_lag', 'scan_cache_total']) expect([m, metrics.has(m)]).toEqual([m, true]);
  });

  it('documents every configuration variable the code reads', () => {
    const missing = [...variablesInCode()].filter(([name]) => !GUIDE.includes(`\`${name}\``)).map(([name, file]) => `${name} (${file})`);
    expect(missing).toEqual([]);
  });

  it('documents every metric the code exports', () => {
    expect([...metricsInCode()].filter((name) => !GUIDE.includes(`\`${name}`))).toEqual([]);
  });

  it('covers run modes, backups and restore, health and metrics', () => {
    for (const heading of ['## Run modes', '## Configuration', '## Backups and restore', '## Health, metrics and logs']) expect(GUIDE).toContain(heading);
  });
});
