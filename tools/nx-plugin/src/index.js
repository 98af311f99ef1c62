// @ts-check
// The Slipway Nx plugin: reads services.json and infers
//   - one target per service on the `release` project  (`nx run release:api -- --dry-run`
//     runs `slipway release api --dry-run`), and
//   - a `release-check` target on each service's own project (`nx affected -t release-check`
//     then checks only the services a change touches).
// Adding a service to services.json adds its targets with no other edit. The `release` project
// itself is a project.json that `nx g @slipway/nx-plugin:init` writes (tools/release) when the
// workspace has none: an inferred project needs a folder of its own, and the workspace root is
// often a project already.
//
// Plain JavaScript with JSDoc types, so Nx loads it in this repository with no build step; the
// published package ships the same modules, with .d.ts, from dist/.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';

export const name = '@slipway/nx-plugin';

const SERVICES_FILE = 'services.json';
const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
// Targets Nx infers on the release project itself; a service of that name gets `release-<name>`.
const RESERVED_TARGETS = new Set(['build', 'typecheck', 'test', 'lint', 'release-check']);
const FALLBACK_COMMAND = 'npx --no-install slipway';

/**
 * @typedef {{ releaseProject?: string, checkTargetName?: string, command?: string }} SlipwayPluginOptions
 */

/** @param {string} workspaceRoot */
function readServices(workspaceRoot) {
  const file = join(workspaceRoot, SERVICES_FILE);
  if (!existsSync(file)) return undefined;
  let config;
  try {
    config = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${SERVICES_FILE}: not valid JSON (${/** @type {Error} */ (error).message}). Run \`npx slipway check\` for details.`, {
      cause: error,
    });
  }
  const services = config && typeof config === 'object' ? config.services : undefined;
  if (!services || typeof services !== 'object' || Array.isArray(services)) {
    throw new Error(`${SERVICES_FILE}: "services" must be an object of service name → settings.`);
  }
  return Object.entries(services)
    .filter(([name]) => SERVICE_NAME.test(name))
    .map(([name, settings]) => ({
      name,
      project: settings && typeof settings.project === 'string' ? settings.project : name,
    }));
}

/**
 * The Nx project name declared by a project.json or package.json, or undefined.
 * @param {string} workspaceRoot
 * @param {string} file
 * @returns {string | undefined}
 */
function projectNameOf(workspaceRoot, file) {
  try {
    const json = JSON.parse(readFileSync(join(workspaceRoot, file), 'utf8'));
    if (file.endsWith('project.json')) return json.name;
    return json.nx?.name ?? json.name;
  } catch {
    return undefined;
  }
}

/**
 * How targets start the CLI: the workspace's installed `slipway` bin run by node directly (npx
 * would spend a few hundred milliseconds finding it on every run). Only when @slipway/release does
 * not resolve from the workspace root: `npx --no-install slipway`, which finds a bin npx can see
 * and otherwise fails, rather than download the unrelated npm package that happens to be named
 * `slipway` (the CLI's package is @slipway/release).
 * @param {string} workspaceRoot
 */
export function slipwayCommand(workspaceRoot) {
  try {
    const require = createRequire(join(workspaceRoot, 'package.json'));
    // Where the CLI is installed, not an import of it: the plugin never loads the CLI's code.
    // eslint-disable-next-line @nx/enforce-module-boundaries
    const bin = join(dirname(require.resolve('@slipway/release/package.json')), 'bin', 'slipway.js');
    if (!existsSync(bin)) return FALLBACK_COMMAND;
    const path = relative(workspaceRoot, bin).split(sep).join('/');
    return `node ${/\s/.test(path) ? JSON.stringify(path) : path}`;
  } catch {
    return FALLBACK_COMMAND;
  }
}

/**
 * @param {string} shell
 * @param {string} description
 * @returns {import('@nx/devkit').TargetConfiguration}
 */
function runTarget(shell, description) {
  return {
    executor: 'nx:run-commands',
    options: { command: shell, cwd: '{workspaceRoot}' },
    // Never cached, so no `inputs` either: `release` writes tags and releases, and `check` asks
    // origin whether the next tag is already taken (git ls-remote), which no Nx input can capture;
    // a cache hit could pass a check that would fail now.
    cache: false,
    metadata: { description, technologies: ['slipway'] },
  };
}

/** @type {import('@nx/devkit').CreateNodesV2<SlipwayPluginOptions>} */
export const createNodes = [
  `{${SERVICES_FILE},**/package.json,**/project.json}`,
  async (files, options, context) => {
    const services = readServices(context.workspaceRoot);
    if (!services) return [];
    const releaseProject = options?.releaseProject ?? 'release';
    const checkTarget = options?.checkTargetName ?? 'release-check';
    const cli = options?.command ?? slipwayCommand(context.workspaceRoot);

    /** @type {Array<readonly [string, import('@nx/devkit').CreateNodesResult]>} */
    const results = [];
    for (const file of files) {
      if (file === SERVICES_FILE) continue;
      const root = dirname(file);
      if (root === '.' || file.includes('node_modules/')) continue;
      const name = projectNameOf(context.workspaceRoot, file);
      if (!name) continue;

      /** @type {Record<string, import('@nx/devkit').TargetConfiguration>} */
      const targets = {};
      if (name === releaseProject) {
        for (const service of services) {
          const target = RESERVED_TARGETS.has(service.name) ? `release-${service.name}` : service.name;
          targets[target] = runTarget(`${cli} release ${service.name}`, `Cut the next release of ${service.name}: slipway release ${service.name}`);
        }
      }
      const own = services.filter((s) => s.project === name);
      for (const service of own) {
        targets[own.length > 1 ? `${checkTarget}-${service.name}` : checkTarget] = runTarget(
          `${cli} check ${service.name}`,
          `Release readiness of ${service.name}, without writing: slipway check ${service.name}`,
        );
      }
      if (Object.keys(targets).length > 0) {
        results.push([file, { projects: { [root]: { targets } } }]);
      }
    }
    return results;
  },
];
