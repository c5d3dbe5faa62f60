import nx from '@nx/eslint-plugin';

// Module boundaries are a lint error, not a convention:
//   a service never imports another service (only the embedded host composes them);
//   domain libs (trace-chain, gs1) and the contracts import no NestJS, TypeORM, kafkajs, pg or ioredis.
const infrastructure = ['@nestjs/*', 'typeorm', 'kafkajs', 'pg', 'ioredis', 'express', 'class-validator', 'class-transformer'];

export default [
  { ignores: ['**/node_modules/**', '**/dist/**', '.nx/**', '.data/**', 'libs/contracts/src/gen/**', 'coverage/**'] },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allowCircularSelfDependency: false,
          banTransitiveDependencies: false,
          depConstraints: [
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain'], bannedExternalImports: infrastructure },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'], bannedExternalImports: infrastructure },
            { sourceTag: 'type:platform', onlyDependOnLibsWithTags: ['type:platform', 'type:contracts', 'type:domain'] },
            { sourceTag: 'type:core', onlyDependOnLibsWithTags: ['type:core', 'type:platform', 'type:contracts', 'type:domain'] },
            { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:core', 'type:platform', 'type:contracts', 'type:domain'] },
            { sourceTag: 'type:host', onlyDependOnLibsWithTags: ['type:service', 'type:core', 'type:platform', 'type:contracts', 'type:domain'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:testing', 'type:platform', 'type:contracts', 'type:domain'] },
            { sourceTag: 'type:tests', onlyDependOnLibsWithTags: ['*'] },
          ],
        },
      ],
      // Errors from catch clauses and decoded JSON are narrowed explicitly where used.
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests read untyped JSON answers and assert on them; non-null assertions there are checked by the assertion itself.
    files: ['tests/**/*.ts', '**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
];
