import nx from '@nx/eslint-plugin';

// Dependency direction is one way (ARCHITECTURE.md): apps and tools → adapters → pure libs.
const depConstraints = [
  { sourceTag: 'scope:core', onlyDependOnLibsWithTags: ['scope:core'] },
  { sourceTag: 'scope:adapter', onlyDependOnLibsWithTags: ['scope:core'] },
  { sourceTag: 'scope:app', onlyDependOnLibsWithTags: ['scope:core', 'scope:adapter'] },
  { sourceTag: 'scope:tools', onlyDependOnLibsWithTags: ['scope:core', 'scope:adapter', 'scope:tools'] },
  { sourceTag: 'scope:service', onlyDependOnLibsWithTags: [] },
  // Benchmarks drive the CLI and the libraries against the test peers; nothing imports them.
  { sourceTag: 'scope:bench', onlyDependOnLibsWithTags: ['scope:core', 'scope:adapter', 'scope:app', 'scope:tools'] },
  // The reference generator reads the CLI's command definitions; nothing imports it.
  { sourceTag: 'scope:docs', onlyDependOnLibsWithTags: ['scope:core', 'scope:adapter', 'scope:app'] },
];

// Tests may also use the peers in tools/testing; production code may not.
const testDepConstraints = depConstraints.map((c) =>
  c.sourceTag === 'scope:service' || c.sourceTag === 'scope:docs' ? c : { ...c, onlyDependOnLibsWithTags: [...c.onlyDependOnLibsWithTags, 'scope:tools'] },
);

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    ignores: ['**/dist', '**/out-tsc', '**/node_modules', '**/.nx', '**/vite.config.*.timestamp*', '**/vitest.config.*.timestamp*'],
  },
  {
    files: ['**/*.ts', '**/*.js'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', { enforceBuildableLibDependency: false, allow: [], depConstraints }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.test.ts', '**/*.test.js', '**/test/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', { enforceBuildableLibDependency: false, allow: [], depConstraints: testDepConstraints }],
    },
  },
  {
    // Test-runner configs share one preset from tools/testing; they are tooling, not code that ships.
    files: ['**/vitest.config.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    // Libraries never print or exit; only apps/release decides output and exit codes.
    files: ['libs/**/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'Throw a typed error; apps/release maps it to an exit code.' }],
    },
  },
];
