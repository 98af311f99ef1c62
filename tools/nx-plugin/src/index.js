// @ts-check
// The Slipway Nx plugin: reads services.json and infers
//   - one target per service on the `release` project  (`nx run release:api -- --dry-run`
//     runs `slipway release api --dry-run`), and
//   - a `release-check` target on each service's own project (`nx affected -t release-check`
//     then checks only the services a change touches).
// Adding a service to services.json adds its targets with no other edit.
//
// Plain CommonJS on purpose: Nx loads local plugins with require(), and a plugin that needs a
// transpiler or a build step is one more thing to break in a fresh clone.
const { existsSync, readFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

const SERVICES_FILE = 'services.json';
const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
// Targets Nx infers on the release project itself; a service of that name gets `release-<name>`.
const RESERVED_TARGETS = new Set(['build', 'typecheck', 'test', 'lint', 'release-check']);

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

/** @param {string} shell */
function runTarget(shell, description) {
  return {
    executor: 'nx:run-commands',
    options: { command: shell, cwd: '{workspaceRoot}' },
    cache: false,
    metadata: { description, technologies: ['slipway'] },
  };
}

/** @type {import('@nx/devkit').CreateNodesV2<SlipwayPluginOptions>} */
const createNodes = [
  `{${SERVICES_FILE},**/package.json,**/project.json}`,
  async (files, options, context) => {
    const services = readServices(context.workspaceRoot);
    if (!services) return [];
    const releaseProject = options?.releaseProject ?? 'release';
    const checkTarget = options?.checkTargetName ?? 'release-check';
    const cli = options?.command ?? 'npx slipway';

    /** @type {Array<readonly [string, import('@nx/devkit').CreateNodesResult]>} */
    const results = [];
    for (const file of files) {
      if (file === SERVICES_FILE) continue;
      const root = dirname(file);
      if (root === '.' || file.includes('node_modules/')) continue;
      const name = projectNameOf(context.workspaceRoot, file);
      if (!name) continue;

      /** @type {Record<string, unknown>} */
      const targets = {};
      if (name === releaseProject) {
        for (const service of services) {
          const target = RESERVED_TARGETS.has(service.name) ? `release-${service.name}` : service.name;
          targets[target] = runTarget(`${cli} release ${service.name}`, `Cut the next release of ${service.name}: slipway release ${service.name}`);
        }
      }
      for (const service of services.filter((s) => s.project === name)) {
        targets[services.filter((s) => s.project === name).length > 1 ? `${checkTarget}-${service.name}` : checkTarget] =
          runTarget(`${cli} check ${service.name}`, `Release readiness of ${service.name}, without writing: slipway check ${service.name}`);
      }
      if (Object.keys(targets).length > 0) {
        results.push([file, { projects: { [root]: { targets } } }]);
      }
    }
    return results;
  },
];

module.exports = { createNodes, name: '@slipway/nx-plugin' };
