import type { Handler } from '../context.js';

/**
 * Each command's handler, loaded when that command runs, so `slipway --version` or `tag inspect`
 * never pays for Octokit, the registry client or the promotion flow. The same handlers as
 * `handlers` in ./index.ts, which a test keeps in step with this map.
 */
export const handlerLoaders: Partial<Record<string, () => Promise<Handler>>> = {
  'tag inspect': async () => (await import('./tag-inspect.js')).tagInspect,
  plan: async () => (await import('./plan.js')).plan,
  release: async () => (await import('./release.js')).release,
  check: async () => (await import('./check.js')).check,
  affected: async () => (await import('./affected.js')).affected,
  'image resolve': async () => (await import('./image.js')).imageResolve,
  'image copy': async () => (await import('./image.js')).imageCopy,
  'image tags': async () => (await import('./image.js')).imageTags,
  publish: async () => (await import('./publish.js')).publish,
  verify: async () => (await import('./verify.js')).verify,
  ci: async () => (await import('./ci.js')).ci,
  reserve: async () => (await import('./reserve.js')).reserve,
  promote: async () => (await import('./promote.js')).promote,
  rollback: async () => (await import('./rollback.js')).rollback,
  status: async () => (await import('./status.js')).status,
  history: async () => (await import('./history.js')).history,
};
