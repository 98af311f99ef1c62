// @ts-check
// `nx g @slipway/nx-plugin:init` (and `nx add @slipway/nx-plugin`, which runs it): everything a
// workspace needs before `nx run release:<service>` works, with no hand edit.
//   - registers @slipway/nx-plugin in nx.json;
//   - writes services.json with one service per application project, `$schema` pointing at the
//     schema inside the installed @slipway/config, and the GitHub repository when origin is one;
//   - adds the `release` project (a project.json in tools/release) when the workspace has none:
//     the plugin hangs one target per service on it;
//   - adds @slipway/release (the CLI the targets run) to devDependencies when it is missing;
//   - with --workflows, writes the GitHub Actions workflows of services.json's scheme into
//     .github/workflows/ (the ones in docs/github-actions/ of the Slipway repository).
// Running it again changes nothing. An existing services.json or workflow file is never touched.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { join, relative, sep } from 'node:path';
import {
  addDependenciesToPackageJson,
  addProjectConfiguration,
  createProjectGraphAsync,
  formatFiles,
  installPackagesTask,
  logger,
  readNxJson,
  updateNxJson,
  writeJson,
} from '@nx/devkit';

const PLUGIN = '@slipway/nx-plugin';
const CLI = '@slipway/release';
const SERVICES_FILE = 'services.json';
const RELEASE_PROJECT = 'release';
const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * @typedef {{ releaseProjectRoot?: string, keepExistingVersions?: boolean, skipPackageJson?: boolean, skipFormat?: boolean, workflows?: boolean }} InitOptions
 * @typedef {{ name: string, root: string, type: string }} ProjectInfo
 * @typedef {{ projects: ProjectInfo[], repository?: string, schemaPath?: string }} WorkspaceFacts
 */

/** The version of this package, which @slipway/release is kept in step with. */
function ownVersion() {
  // src/generators/init/init.js and dist/generators/init/init.js sit at the same depth.
  const require = createRequire(import.meta.url);
  return /** @type {{ version: string }} */ (require('../../../package.json')).version;
}

/**
 * @param {import('@nx/devkit').Tree} tree
 * @param {InitOptions} [options]
 */
export async function initGenerator(tree, options = {}) {
  const graph = await createProjectGraphAsync({ exitOnError: false });
  const projects = Object.values(graph.nodes).map((node) => ({ name: node.name, root: node.data.root, type: node.type }));
  return applyInit(tree, options, { projects, repository: githubRepository(tree.root), schemaPath: installedSchema(tree.root) });
}

export default initGenerator;

/**
 * The generator over facts already gathered (the project graph, the git origin), so it can be
 * tested on a tree without a workspace on disk.
 * @param {import('@nx/devkit').Tree} tree
 * @param {InitOptions} options
 * @param {WorkspaceFacts} facts
 */
export async function applyInit(tree, options, facts) {
  const hasReleaseProject = facts.projects.some((p) => p.name === RELEASE_PROJECT);
  const releaseRoot = (options.releaseProjectRoot ?? 'tools/release').replace(/\/+$/, '');

  if (tree.exists(SERVICES_FILE)) {
    logger.info(`${SERVICES_FILE} exists: left as it is. Edit it to add services (reference: docs/services-json.md).`);
  } else {
    const apps = facts.projects.filter((p) => p.type === 'app' && p.root !== '.' && p.name !== RELEASE_PROJECT);
    if (apps.length === 0) {
      throw new Error(
        'No application projects in this workspace, so there is nothing for Slipway to release. ' +
          'Slipway releases each application project (Nx project type "application") as a service. ' +
          'Add one (for example `nx g @nx/node:app apps/api`, or set "projectType": "application" in a project\'s project.json or package.json "nx" field), ' +
          'or write services.json by hand, then run `nx g @slipway/nx-plugin:init` again. Nothing was written.',
      );
    }
    if (!hasReleaseProject && tree.exists(join(releaseRoot, 'project.json'))) {
      throw new Error(`${releaseRoot}/project.json exists but is not a project named "${RELEASE_PROJECT}". Pass --releaseProjectRoot <folder> to put the release project elsewhere. Nothing was written.`);
    }
    writeJson(tree, SERVICES_FILE, servicesFile(apps, facts));
    logger.info(`${SERVICES_FILE}: ${apps.length} service${apps.length === 1 ? '' : 's'} (${apps.map((a) => a.name).join(', ')}).`);
  }

  const nxJson = readNxJson(tree) ?? {};
  const plugins = nxJson.plugins ?? [];
  if (!plugins.some((p) => (typeof p === 'string' ? p : p.plugin) === PLUGIN)) {
    updateNxJson(tree, { ...nxJson, plugins: [...plugins, PLUGIN] });
  }

  if (!hasReleaseProject && !tree.exists(join(releaseRoot, 'project.json'))) {
    addProjectConfiguration(tree, RELEASE_PROJECT, { root: releaseRoot, tags: ['slipway'], targets: {} });
  }

  if (options.workflows) writeWorkflows(tree);

  let install = false;
  if (!options.skipPackageJson && tree.exists('package.json')) {
    const pkg = JSON.parse(tree.read('package.json', 'utf-8') ?? '{}');
    if (!pkg.dependencies?.[CLI] && !pkg.devDependencies?.[CLI]) {
      addDependenciesToPackageJson(tree, {}, { [CLI]: `^${ownVersion()}` }, undefined, true);
      install = true;
    }
  }

  if (!options.skipFormat) await formatFiles(tree);
  return install ? () => installPackagesTask(tree) : undefined;
}

const WORKFLOWS_DIR = '.github/workflows';

/**
 * The workflows (file names in docs/github-actions/) that run a services.json's scheme: the PR
 * gate and promotion always; then the scheme's own. Per-service workspaces whose services CI
 * builds once per commit (`prebuilt`) get the computed-once chain instead of release.yml, which
 * would publish the same tags a second time.
 * @param {{ scheme?: string, services?: Record<string, { build?: { type?: string } }> }} config
 * @returns {string[]}
 */
export function workflowsFor(config) {
  const scheme = config.scheme ?? 'per-service';
  if (scheme === 'single') return ['pr.yml', 'single.yml', 'promote.yml'];
  if (scheme === 'staging-line') return ['pr.yml', 'staging-line.yml', 'promote.yml'];
  const prebuilt = Object.values(config.services ?? {}).some((s) => s.build?.type === 'prebuilt');
  return ['pr.yml', prebuilt ? 'chain.yml' : 'release.yml', 'release-affected.yml', 'promote.yml'];
}

/**
 * Where the workflow templates are: dist/workflows/ in the published package (the build copies
 * them there), else docs/github-actions/ of this repository when running from source.
 * src/generators/init/ and dist/generators/init/ sit at the same depth.
 */
export function workflowTemplatesDir() {
  const candidates = [new URL('../../workflows/', import.meta.url), new URL('../../../../../docs/github-actions/', import.meta.url)];
  const found = candidates.map((url) => fileURLToPath(url)).find((dir) => existsSync(join(dir, 'pr.yml')));
  if (!found) throw new Error(`The workflow templates are missing from this installation of ${PLUGIN} (looked in ${candidates.map((u) => fileURLToPath(u)).join(', ')}). Reinstall it.`);
  return found;
}

/** @param {import('@nx/devkit').Tree} tree */
function writeWorkflows(tree) {
  const config = tree.exists(SERVICES_FILE) ? JSON.parse(tree.read(SERVICES_FILE, 'utf-8') ?? '{}') : {};
  const dir = workflowTemplatesDir();
  for (const file of workflowsFor(config)) {
    const target = `${WORKFLOWS_DIR}/${file}`;
    if (tree.exists(target)) {
      logger.info(`${target} exists: left as it is (compare it with ${PLUGIN}'s ${file}).`);
      continue;
    }
    tree.write(target, readFileSync(join(dir, file), 'utf8'));
    logger.info(`${target}: written for the ${config.scheme ?? 'per-service'} scheme.`);
  }
}

/**
 * @param {ProjectInfo[]} apps
 * @param {WorkspaceFacts} facts
 */
function servicesFile(apps, facts) {
  /** @type {Record<string, { project: string }>} */
  const services = {};
  for (const app of [...apps].sort((a, b) => a.name.localeCompare(b.name))) {
    services[uniqueName(serviceNameOf(app.name), services)] = { project: app.name };
  }
  return {
    $schema: facts.schemaPath ?? './node_modules/@slipway/config/services.schema.json',
    ...(facts.repository ? { repository: facts.repository, registry: `ghcr.io/${facts.repository.split('/')[0]?.toLowerCase()}` } : {}),
    services,
  };
}

/**
 * A service name (`^[a-z][a-z0-9-]{0,62}$`) for a project name: `@acme/api` → `api`.
 * @param {string} project
 */
export function serviceNameOf(project) {
  const base = project
    .replace(/^@[^/]+\//, '')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
  const name = /^[a-z]/.test(base) ? base : `svc-${base}`;
  return name.slice(0, 63).replace(/-+$/, '');
}

/**
 * @param {string} name
 * @param {Record<string, unknown>} taken
 */
function uniqueName(name, taken) {
  if (!(name in taken)) return name;
  for (let n = 2; ; n++) {
    const candidate = `${name.slice(0, 60)}-${n}`;
    if (!(candidate in taken) && SERVICE_NAME.test(candidate)) return candidate;
  }
}

/**
 * `owner/name` when origin is a GitHub repository, else undefined.
 * @param {string} root
 */
export function githubRepository(root) {
  let url;
  try {
    url = execFileSync('git', ['remote', 'get-url', 'origin'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
  const match = /github\.com[:/]([\w.-]+)\/([\w.-]+?)(?:\.git)?\/?$/.exec(url);
  return match ? `${match[1]}/${match[2]}` : undefined;
}

/**
 * services.json's `$schema`: the schema inside the installed @slipway/config, relative to the root.
 * @param {string} root
 */
function installedSchema(root) {
  try {
    const require = createRequire(join(root, 'package.json'));
    const path = relative(root, require.resolve('@slipway/config/services.schema.json')).split(sep).join('/');
    return path.startsWith('.') ? path : `./${path}`;
  } catch {
    return undefined;
  }
}
