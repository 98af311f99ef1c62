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
  'image copy': async () => {
    await keepYoungGenerationSmall();
    return (await import('./image.js')).imageCopy;
  },
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

/**
 * For a command that streams blobs between registries, set before its modules load: keep V8's
 * young generation at its starting size instead of letting module loading grow it to 16 MiB.
 * Every 64 KiB a socket reads (and node:http's copy of each body piece) is a buffer outside the JS
 * heap that dies at once but is only freed by a GC; a large young generation makes scavenges rare,
 * so those buffers pile up until V8's external-memory limit (+64 MiB) forces a full GC. Measured on
 * a 2 × 150 MiB copy: peak RSS 82–90 MiB instead of 101–103, CPU unchanged (issue 19). The flag is
 * read each time the young generation would grow, so setting it now takes effect; a
 * `--max-semi-space-size` or `--semi-space-growth-factor` of the user's own is left alone.
 */
async function keepYoungGenerationSmall(): Promise<void> {
  if ([...process.execArgv, process.env['NODE_OPTIONS'] ?? ''].some((arg) => /semi[-_]space/.test(arg))) return;
  (await import('node:v8')).setFlagsFromString('--semi-space-growth-factor=1');
}
