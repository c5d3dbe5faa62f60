import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as gs1 from './index';

describe('@trace/gs1 public surface', () => {
  it('re-exports the API from the index', () => {
    for (const name of [
      'Gs1Error',
      'gs1CheckDigit',
      'isValidGs1Key',
      'normalizeGtin',
      'isValidGln',
      'isValidSscc',
      'parseGs1Date',
      'parseDigitalLink',
      'formatDigitalLink',
      'parseGs1ElementString',
      'formatGs1ElementString',
      'generateDrugTraceCode',
      'parseDrugTraceCode',
      'defaultDrugCodeCheck',
      'standInMod97DrugCodeCheck',
    ]) {
      expect(gs1).toHaveProperty(name);
    }
  });

  it('imports nothing but its own files (no npm packages, no node built-ins)', () => {
    const sources = readdirSync(__dirname).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));
    expect(sources.length).toBeGreaterThan(5);
    for (const file of sources) {
      const text = readFileSync(join(__dirname, file), 'utf8');
      const specifiers = [...text.matchAll(/(?:from|import|require\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
      for (const s of specifiers) expect(`${file}: ${s}`).toMatch(/: \.\//);
    }
  });

  it('raises Gs1Error with a code', () => {
    const err = new gs1.Gs1Error('gtin.length', 'msg', '01');
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: 'Gs1Error', code: 'gtin.length', ai: '01', message: 'msg' });
  });
});
