import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/**
 * The architecture's import rules are lint errors: these probes would be
 * accepted by the compiler, and must be refused by `nx lint`.
 */
describe('module boundaries (nx lint)', () => {
  // The lint rule reads Nx's cached project graph and silently skips itself when there is none
  // (a fresh clone where nothing has run nx yet): compute it first.
  beforeAll(() => {
    const r = spawnSync(process.execPath, [resolve(ROOT, 'node_modules/nx/bin/nx.js'), 'show', 'projects'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
    });
    if (r.status !== 0) throw new Error(`nx show projects failed: ${r.stderr}`);
  }, 120_000);

  // ESLint runs in its own process: its flat config is an ES module, which jest's sandbox cannot load.
  async function ruleIds(filePath: string, code: string): Promise<string[]> {
    const r = spawnSync(
      process.execPath,
      [resolve(ROOT, 'node_modules/eslint/bin/eslint.js'), '--stdin', '--stdin-filename', resolve(ROOT, filePath), '--format', 'json'],
      { cwd: ROOT, input: code, encoding: 'utf8', env: { ...process.env, NX_DAEMON: 'false' } },
    );
    if (!r.stdout) throw new Error(`eslint failed: ${r.stderr}`);
    const [result] = JSON.parse(r.stdout) as { messages: { severity: number; ruleId: string; message: string }[] }[];
    return result.messages.filter((m) => m.severity === 2).map((m) => `${m.ruleId}: ${m.message}`);
  }

  it('refuses a service importing another service', async () => {
    const errors = await ruleIds('services/agri/src/probe.ts', `import { FoodModule } from '@trace/service-food';\nexport const x = FoodModule;\n`);
    expect(errors).toEqual([expect.stringMatching(/^@nx\/enforce-module-boundaries: /)]);
  });

  it('refuses NestJS, TypeORM or kafkajs in the domain libraries', async () => {
    for (const [file, pkg] of [
      ['libs/trace-chain/src/probe.ts', '@nestjs/common'],
      ['libs/trace-chain/src/probe.ts', 'typeorm'],
      ['libs/gs1/src/probe.ts', 'kafkajs'],
    ]) {
      const errors = await ruleIds(file, `import * as m from '${pkg}';\nexport const x = m;\n`);
      expect(errors).toEqual([`@nx/enforce-module-boundaries: A project tagged with "type:domain" is not allowed to import "${pkg}"`]);
    }
  });

  it('refuses a domain library importing the platform', async () => {
    const errors = await ruleIds('libs/trace-chain/src/probe.ts', `import { loadConfig } from '@trace/platform';\nexport const x = loadConfig;\n`);
    expect(errors).toEqual([expect.stringMatching(/^@nx\/enforce-module-boundaries: /)]);
  });

  it('accepts the allowed direction: a service importing the core and the host importing services', async () => {
    expect(await ruleIds('services/agri/src/probe.ts', `import { DomainServiceModule } from '@trace/trace-service';\nexport const x = DomainServiceModule;\n`)).toEqual([]);
    expect(await ruleIds('services/embedded/src/probe.ts', `import { AgriModule } from '@trace/service-agri';\nexport const x = AgriModule;\n`)).toEqual([]);
  });
});
