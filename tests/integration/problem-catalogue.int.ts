import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { localizeProblem, problemType, PROBLEM_TYPES, STATUS_PROBLEM_TYPES, STATUS_TITLES, STATUS_TITLES_ZH } from '@trace/platform';
import { BATCH_STATUSES } from '@trace/trace-chain';

const ROOT = resolve(__dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' || name === 'gen' ? [] : sources(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });
}

/**
 * Every way the code names a problem type: the helpers of problem.ts, a
 * DomainError or a rule refusal ({ status, rule }), a literal type URI, the
 * drug unit-code errors, the docs guard's problem(res, status, slug).
 */
const PATTERNS = [
  /\b(?:conflict|notFound|unprocessable|forbidden|badRequest)\(\s*'([a-z0-9-]+)'/g,
  /new DomainError\(\s*\d+,\s*'([a-z0-9-]+)'/g,
  /new UnitCodeError\(\s*(?:[^)]*\?\s*)?'([a-z0-9-]+)'/g,
  /\brule:\s*'([a-z0-9-]+)'/g,
  /problemType\(\s*'([a-z0-9-]+)'\s*\)/g,
  /problems\.trace\.dev\/([a-z0-9-]+)/g,
  /\bproblem\(\s*\w+,\s*\d+,\s*'([a-z0-9-]+)'/g,
  /'unit-code-check'/g,
];

/** Types built from a value: `batch-${status}` (custody.ts, drug.service.ts), `${name}-required|format` (material.rules.ts). */
const TEMPLATED = [
  ...BATCH_STATUSES.filter((s) => s !== 'active').map((s) => `batch-${s}`),
  ...['standard', 'grade'].flatMap((name) => [`${name}-required`, `${name}-format`]),
];

function typesInCode(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of [...sources(join(ROOT, 'services')), ...sources(join(ROOT, 'libs'))]) {
    if (file.includes(`${join('libs', 'testing')}`) || file.endsWith('problem-types.ts')) continue;
    const text = readFileSync(file, 'utf8');
    for (const pattern of PATTERNS) {
      for (const m of text.matchAll(pattern)) {
        const slug = m[1] ?? m[0].slice(1, -1);
        if (!found.has(slug)) found.set(slug, relative(ROOT, file));
      }
    }
  }
  for (const slug of TEMPLATED) if (!found.has(slug)) found.set(slug, '(templated)');
  return found;
}

describe('error catalogue (libs/platform/src/problem-types.ts, docs/errors.md)', () => {
  const inCode = typesInCode();

  it('finds the problem types the code raises (the scan itself works)', () => {
    for (const slug of ['validation', 'duplicate-lot', 'certificate-required', 'batch-held', 'unit-code-check', 'unauthorized', 'upstream-unavailable']) {
      expect(inCode.has(slug)).toBe(true);
    }
    expect(inCode.size).toBeGreaterThan(100);
  });

  it('lists every problem type the code raises', () => {
    const missing = [...inCode].filter(([slug]) => !PROBLEM_TYPES[slug]).map(([slug, file]) => `${slug} (${file})`);
    expect(missing).toEqual([]);
  });

  it('lists no type the code no longer raises (besides the generic types of a bare HTTP status)', () => {
    const stale = Object.keys(PROBLEM_TYPES).filter(
      (slug) => !inCode.has(slug) && !(STATUS_PROBLEM_TYPES as readonly string[]).includes(slug) && slug !== 'malformed-json',
    );
    expect(stale).toEqual([]);
  });

  it('gives every type a status with a title in both languages, a Chinese and English meaning, and what to do', () => {
    for (const [slug, d] of Object.entries(PROBLEM_TYPES)) {
      for (const status of Array.isArray(d.status) ? d.status : [d.status]) {
        expect([slug, STATUS_TITLES[status] !== undefined, STATUS_TITLES_ZH[status] !== undefined]).toEqual([slug, true, true]);
      }
      expect([slug, d.en.length > 0, /[\u4e00-\u9fff]/.test(d.zh), d.action.length > 0]).toEqual([slug, true, true, true]);
    }
  });

  it('answers every type in Chinese to a Chinese reader: no English detail is left', () => {
    for (const [slug, d] of Object.entries(PROBLEM_TYPES)) {
      const status = Array.isArray(d.status) ? d.status[0] : d.status;
      const zh = localizeProblem({ type: problemType(slug), title: STATUS_TITLES[status], status, detail: 'English detail' }, 'zh');
      expect([slug, zh.detail]).not.toEqual([slug, 'English detail']);
      expect([slug, zh.title]).toEqual([slug, STATUS_TITLES_ZH[status]]);
    }
  });

  it('docs/errors.md is the catalogue as `npm run docs:errors` writes it', () => {
    const check = spawnSync(process.execPath, [join(ROOT, 'scripts/run.js'), 'scripts/docs/errors.ts', '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect({ status: check.status, out: check.stdout.trim() }).toEqual({ status: 0, out: 'docs/errors.md is current' });
    expect(readFileSync(join(ROOT, 'docs/errors.md'), 'utf8')).toContain('| `duplicate-lot` | 409 |');
  });
});
