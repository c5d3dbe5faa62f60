// Three tiers, one runner: `npm test` runs them all (scripts/test-all.js).
//   unit         *.spec.ts next to the code; no I/O
//   integration  tests/integration/**/*.int.ts; real PostgreSQL, Redis, Kafka-protocol broker
//   e2e          tests/e2e/**/*.e2e.ts; the real processes over HTTP
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [`^${alias}$`, `<rootDir>/${target}`]),
);

const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
        target: 'es2022',
      },
      module: { type: 'commonjs' },
    },
  ],
};

// jose ships ES modules only; Node's require() loads them, jest's module system needs them compiled.
transform['/node_modules/jose/.+\\.js$'] = ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }];

const base = { rootDir: __dirname, transform, moduleNameMapper, testEnvironment: 'node', transformIgnorePatterns: ['/node_modules/(?!jose/)'] };

module.exports = {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/{libs,services}/**/*.spec.ts'] },
    {
      ...base,
      displayName: 'integration',
      testMatch: ['<rootDir>/tests/integration/**/*.int.ts'],
      globalSetup: '<rootDir>/tests/setup/global-setup.ts',
      globalTeardown: '<rootDir>/tests/setup/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/tests/setup/timeouts.ts'],
    },
    {
      ...base,
      displayName: 'e2e',
      testMatch: ['<rootDir>/tests/e2e/**/*.e2e.ts'],
      globalSetup: '<rootDir>/tests/setup/global-setup.ts',
      globalTeardown: '<rootDir>/tests/setup/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/tests/setup/timeouts.ts'],
    },
  ],
};
