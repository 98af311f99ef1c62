import { isAbsolute, resolve } from 'node:path';
import { getService, loadConfig, serviceNames, type ResolvedService, type ServicesFile } from '@slipway/config';
import { createGit, type SourceControl } from '@slipway/git';
import { createGitHub, type ReleaseHost } from '@slipway/github';
import {
  OCI_LAYOUT_PREFIX,
  createRegistryClient,
  defaultCredentials,
  openOciLayout,
  parseImageRef,
  type ImageRef,
  type Registry,
} from '@slipway/registry';
import { affectingRoots, readProjectGraph, type GraphSource, type ProjectGraph } from './adapters/project-graph.js';
import type { CommandContext } from './context.js';
import { UsageError } from './errors.js';

/**
 * Everything a command needs about the workspace, with the adapters chosen from services.json
 * and the environment. The one place that reads the environment for credentials and endpoints.
 */
export interface Workspace {
  root: string;
  config: ServicesFile;
  env: NodeJS.ProcessEnv;
  service(name: string): ResolvedService;
  serviceNames(): string[];
  git(): SourceControl;
  /** The GitHub adapter, or undefined when services.json has no `repository` (git tags only). */
  github(): ReleaseHost | undefined;
  /** The registry holding `image` (a reference like `ghcr.io/acme/api` or `oci-layout:dir/api`). */
  registry(image: string): { registry: Registry; ref: ImageRef };
  /** Folders whose changes affect a service: its `root` or `roots`, or its Nx project and every project it depends on. */
  serviceRoots(name: string): Promise<string[]>;
  projectGraph(): Promise<ProjectGraph>;
  /** Where the project graph came from; undefined while none was needed. */
  projectGraphSource(): GraphSource | undefined;
}

export type RegistryFactory = (image: string) => { registry: Registry; ref: ImageRef };

/**
 * Registries by image reference, one client per host: `oci-layout:<dir>` opens the on-disk store
 * (relative to the workspace root), anything else the OCI distribution client with credentials
 * from the Docker config, credential helpers and GITHUB_TOKEN/GHCR_TOKEN (for ghcr.io, exchanged
 * for a registry token, never sent raw).
 */
export function registryFactory(options: { root: string; insecureRegistries: readonly string[]; env: NodeJS.ProcessEnv }): RegistryFactory {
  const registries = new Map<string, Registry>();
  const credentials = defaultCredentials({ env: options.env });
  const open = (host: string): Registry => {
    if (host.startsWith(OCI_LAYOUT_PREFIX)) {
      const dir = host.slice(OCI_LAYOUT_PREFIX.length);
      return openOciLayout(isAbsolute(dir) ? dir : resolve(options.root, dir));
    }
    return createRegistryClient({ host, insecure: options.insecureRegistries.includes(host), insecureHosts: options.insecureRegistries, credentials });
  };
  return (image) => {
    const ref = parseImageRef(image);
    let registry = registries.get(ref.registry);
    if (!registry) registries.set(ref.registry, (registry = open(ref.registry)));
    return { registry, ref };
  };
}

export async function openWorkspace(ctx: CommandContext): Promise<Workspace> {
  const { root, config } = await loadConfig({ cwd: ctx.cwd === undefined ? undefined : resolve(ctx.processCwd, ctx.cwd), start: ctx.processCwd });
  const env = ctx.env;
  let git: SourceControl | undefined;
  let github: ReleaseHost | undefined | null = null;
  let graph: Promise<ProjectGraph> | undefined;
  let graphSource: GraphSource | undefined;
  const registry = registryFactory({ root, insecureRegistries: config.insecureRegistries, env });

  const ws: Workspace = {
    root,
    config,
    env,
    service: (name) => getService(config, name),
    serviceNames: () => serviceNames(config),
    git: () => (git ??= createGit({ cwd: root, env })),
    github() {
      if (github !== null) return github;
      if (!config.repository) return (github = undefined);
      const token = env['GITHUB_TOKEN'] ?? env['GH_TOKEN'];
      if (!token) {
        throw new UsageError(
          `services.json sets "repository": "${config.repository}", so GitHub releases need a token: set GITHUB_TOKEN (in Actions: env: GITHUB_TOKEN: \${{ secrets.GITHUB_TOKEN }}).`,
        );
      }
      return (github = createGitHub({ repository: config.repository, token, ...(env['GITHUB_API_URL'] ? { baseUrl: env['GITHUB_API_URL'] } : {}) }));
    },
    registry,
    projectGraph: () =>
      (graph ??= readProjectGraph({
        workspaceRoot: root,
        git: ws.git(),
        env,
        onSource(source) {
          graphSource = source;
          if (source === 'nx') ctx.out.info('reading the Nx project graph (kept in .slipway/cache until the workspace changes)…');
        },
      })),
    projectGraphSource: () => graphSource,
    async serviceRoots(name) {
      const service = ws.service(name);
      if (service.roots !== undefined) return [...service.roots];
      const projectGraph = await ws.projectGraph();
      if (!Object.hasOwn(projectGraph.roots, service.project)) {
        throw new UsageError(`services.${name}.project: no Nx project named "${service.project}" in ${root} (set "project" or "root" in services.json)`);
      }
      return affectingRoots(projectGraph, service.project);
    },
  };
  return ws;
}
