import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { TokenService, type Role } from '@trace/platform';
import { aBatch, aProduct } from '../support/api';
import { ALL_SERVICES, startDistributed, type DistributedDeployment } from '../support/distributed';
import { startEmbeddedApp, TEST_JWT_SECRET, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg } from '../support/world';

/**
 * Property-based fuzz of every operation the OpenAPI document lists (issue 13):
 * schemathesis reads /docs-json and sends each operation its documented
 * examples, boundary and wrong-typed values of every parameter and body field
 * (the "coverage" phase: NUL, surrogates, overlong strings, missing nested
 * objects, times without an offset…) and then random ones, as each role in
 * turn; the only check is that no answer is a 5xx. A failure prints the
 * request that broke the server, as curl.
 *
 * schemathesis comes from `scripts/fuzz/install.sh` (run by scripts/dev/up.sh,
 * which exports SCHEMATHESIS). Without it the suite is skipped, loudly, except
 * in CI, where its absence is a failure.
 */
const schemathesis = process.env.SCHEMATHESIS ?? '';
const available = schemathesis !== '' && existsSync(schemathesis);
if (!available && !process.env.CI) {
  console.warn('SKIPPED tests/e2e/openapi-fuzz.e2e.ts: SCHEMATHESIS is not set (SCHEMATHESIS="$(bash scripts/fuzz/install.sh)")');
}
/** Examples per operation and phase; FUZZ_EXAMPLES raises it for a longer hunt. */
const EXAMPLES = process.env.FUZZ_EXAMPLES ?? '5';
/** Fixed so a CI failure reproduces; FUZZ_SEED=random explores. */
const SEED = process.env.FUZZ_SEED ?? '20261206';

(available || process.env.CI ? describe : describe.skip)('every OpenAPI operation under property-based fuzzing', () => {
  let t: EmbeddedTestApp;
  const tokens = new TokenService(TEST_JWT_SECRET);
  const tokenFor = async (orgId: string, role: Role) => (await tokens.sign({ clientId: `${role}-fuzz`, orgId, role })).token;
  const roles: Array<{ name: string; orgId: string; role: Role }> = [];

  beforeAll(async () => {
    if (!available) throw new Error('SCHEMATHESIS is not set or missing: CI installs it with scripts/fuzz/install.sh (scripts/dev/up.sh)');
    // Budgets high enough that the fuzz reaches the handlers instead of the rate limiters.
    t = await startEmbeddedApp({ SCAN_RATE_LIMIT: '1000000', LOOKUP_RATE_LIMIT: '1000000', AUTH_RATE_LIMIT: '1000000', AUTH_CLIENT_FAILURES: '1000000', AUTH_ADDRESS_FAILURES: '1000000' });
    // Some data, so that list and look-up operations have something to answer with.
    const farm = await anOrg(t, 'Fuzz Farm', 'producer', ['farm']);
    await aProduct(farm.api, 'agri', '09506000134352', 'grain');
    await farm.api.post('/v1/agri/batches', aBatch('FUZZ-1', farm.locations.farm));
    const bureau = await anOrg(t, 'Fuzz Bureau', 'regulator', []);
    roles.push(
      { name: 'admin', orgId: 'platform', role: 'admin' },
      { name: 'producer operator', orgId: farm.id, role: 'operator' },
      { name: 'regulator', orgId: bureau.id, role: 'regulator' },
    );
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  const fuzz = (authorization: string | undefined) => runSchemathesis(`${t.url}/docs-json`, t.url, authorization, EXAMPLES);

  it('anonymous: no 5xx', async () => expectNoServerError(await fuzz(undefined)), 600_000);

  for (const name of ['admin', 'producer operator', 'regulator']) {
    it(`as ${name}: no 5xx`, async () => {
      const r = roles.find((x) => x.name === name)!;
      expectNoServerError(await fuzz(`Bearer ${await tokenFor(r.orgId, r.role)}`));
    }, 600_000);
  }
});

/**
 * Distributed mode: the same public operations (the document the embedded
 * process serves; the gateway forwards them) sent to the gateway, which routes
 * each to its service process: the gateway's own validation, the proxy and
 * every service's refusals alike must answer 4xx, never 5xx.
 */
(available || process.env.CI ? describe : describe.skip)('every OpenAPI operation, fuzzed through the gateway (distributed)', () => {
  let d: DistributedDeployment;
  const docFile = join(mkdtempSync(join(tmpdir(), 'trace-fuzz-')), 'openapi.json');

  beforeAll(async () => {
    if (!available) throw new Error('SCHEMATHESIS is not set or missing: CI installs it with scripts/fuzz/install.sh (scripts/dev/up.sh)');
    const embedded = await startEmbeddedApp();
    try {
      writeFileSync(docFile, JSON.stringify((await embedded.anonymous.get('/docs-json')).body));
    } finally {
      await embedded.close();
    }
    const budgets = { SCAN_RATE_LIMIT: '1000000', LOOKUP_RATE_LIMIT: '1000000', AUTH_RATE_LIMIT: '1000000', AUTH_CLIENT_FAILURES: '1000000', AUTH_ADDRESS_FAILURES: '1000000' };
    d = await startDistributed([...ALL_SERVICES], 'e2efz', { env: { gateway: budgets } });
  }, 240_000);
  afterAll(async () => {
    await d?.stop();
  });

  it('anonymous and as a producer operator: no 5xx', async () => {
    const org = await d.as('platform', 'admin').post('/v1/orgs', { name: 'Fuzz Mill', kind: 'producer' });
    expect(org.status).toBe(201);
    const token = (await new TokenService(d.secret).sign({ clientId: 'operator-fuzz', orgId: org.body.id, role: 'operator' })).token;
    for (const authorization of [undefined, `Bearer ${token}`]) {
      const run = await runSchemathesis(docFile, d.gateway.url, authorization, DISTRIBUTED_EXAMPLES);
      // A service that died under the fuzz shows as the gateway's 503s: its own last words say why.
      const dead = Object.values(d.services).filter((p) => p!.child.exitCode !== null);
      expect(dead.map((p) => `${p!.name} exited ${p!.child.exitCode}: ${p!.logs().slice(-3000)}`)).toEqual([]);
      expectNoServerError(run);
    }
  }, 900_000);
});

/** Fewer per operation through the gateway: nine processes share the machine. */
const DISTRIBUTED_EXAMPLES = process.env.FUZZ_EXAMPLES ?? '3';

/** Runs schemathesis over the document at `location` against `baseUrl`; its exit code and report. */
async function runSchemathesis(location: string, baseUrl: string, authorization: string | undefined, examples: string) {
    const args = [
      'run', location, '--url', baseUrl,
      '--checks', 'not_a_server_error',
      '--phases', 'examples,coverage,fuzzing',
      '--max-examples', examples,
      '--workers', '2',
      '--continue-on-failure',
      '--suppress-health-check', 'all',
      '--no-color',
      // Its one documented answer is the EPCIS binding's 501 (page tokens here are stateless): by design, not a failure.
      '--exclude-path-regex', '^/v1/epcis/nextPageToken/',
      ...(SEED === 'random' ? [] : ['--seed', SEED]),
      ...(authorization ? ['-H', `Authorization: ${authorization}`] : []),
    ];
    const out: Buffer[] = [];
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(schemathesis, args, { env: { ...process.env, SCHEMATHESIS_HOOKS: 'hooks', PYTHONPATH: resolvePath(__dirname, '../../scripts/fuzz') }, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => out.push(b));
      child.on('error', reject);
      child.on('close', resolve);
    });
    const text = Buffer.concat(out).toString('utf8');
    const summary = /Test cases:\s*\n\s*(\d+) generated, (\d+) passed/.exec(text);
    return { code, text, generated: Number(summary?.[1] ?? 0), passed: Number(summary?.[2] ?? 0) };
}

function expectNoServerError(run: Awaited<ReturnType<typeof runSchemathesis>>) {
  // The whole report on failure: it names each operation and gives the failing request as curl.
  if (run.code !== 0) throw new Error(`schemathesis exited ${run.code}:\n${run.text.slice(-20_000)}`);
  expect(run.generated).toBeGreaterThan(1000);
  expect(run.passed).toBe(run.generated);
}
