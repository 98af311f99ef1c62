// Shared vitest settings for every project. Plain JS so each project's vitest.config.ts can
// import it without a build step.
const conditions = ['@slipway/source'];

/** @returns {import('vitest/config').ViteUserConfig} */
export function slipwayTestConfig() {
  return {
    resolve: { conditions: [...conditions, 'node', 'import', 'module', 'default'] },
    ssr: { resolve: { conditions: [...conditions, 'node', 'import', 'default'], externalConditions: conditions } },
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      environment: 'node',
      // Tests start real peers (registry, git, HTTP doubles); give them room but keep them bounded.
      testTimeout: 60_000,
      hookTimeout: 60_000,
      pool: 'forks',
    },
  };
}
