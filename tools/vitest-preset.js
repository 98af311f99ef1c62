// Shared vitest settings for every project. Plain JS so each project's vitest.config.ts can
// import it without a build step.
import { availableParallelism } from 'node:os';

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
      // Most tests wait on real peers (git, the registry, subprocesses), not the CPU: vitest's
      // default of one worker per core minus one leaves a 2-core machine running them one by one.
      maxWorkers: Math.max(2, availableParallelism()),
    },
  };
}
