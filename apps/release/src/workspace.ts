import { getService, serviceNames, type ResolvedService, type ServicesFile } from '@slipway/config';
import { createGit, type SourceControl } from '@slipway/git';
import type { ReleaseHost } from '@slipway/github';
import type { ImageRef, Registry } from '@slipway/registry';
import { affectingRoots, readProjectGraph, type GraphSource, type ProjectGraph } from './adapters/project-graph.js';
import type { CommandContext, Env } from './context.js';
import { UsageError } from './errors.js';
import { loadWorkspaceConfig } from './workspace-config.js';

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
  /**
   * The GitHub adapter, or undefined when services.json has no `repository` (git tags only).
   * Octokit is loaded on the first call, so commands that never ask do not pay for it at start.
   */
  github(): Promise<ReleaseHost | undefined>;
  /**
   * The registry holding `image` (a reference like `ghcr.io/acme/api` or `oci-layout:dir/api`).
   * The registry client is loaded on the first call, like the GitHub adapter.
   */
  registry: RegistryFactory;
  /** Folders whose changes affect a service: its `root` or `roots`, or its Nx project and every project it depends on. */
  serviceRoots(name: string): Promise<string[]>;
  projectGraph(): Promise<ProjectGraph>;
  /** Where the project graph came from; undefined while none was needed. */
  projectGraphSource(): GraphSource | undefined;
}

export type RegistryFactory = (image: string) => Promise<{ registry: Registry; ref: ImageRef }>;

/**
 * Registries by image reference, one client per host (see ./adapters/registry-open.ts). The
 * registry library loads on the first call, so a command that opens no registry never reads it.
 */
export function registryFactory(options: { root: string; insecureRegistries: readonly string[]; env: Env }): RegistryFactory {
  let opened: Promise<(image: string) => { registry: Registry; ref: ImageRef }> | undefined;
  return async (image) => {
    opened ??= import('./adapters/registry-open.js').then(({ openRegistries }) => openRegistries(options));
    return (await opened)(image);
  };
}

export const GITHUB_TIMEOUT_ENV = 'SLIPWAY_GITHUB_TIMEOUT';

/**
 * SLIPWAY_GITHUB_TIMEOUT: seconds one GitHub API request attempt may take, connect to last body
 * byte (a GitHub Enterprise Server behind a slow proxy needs more than the default 60 s; a CI job
 * that would rather fail fast, less). Unset or empty: the library's default.
 */
export function githubTimeoutMs(env: Env): number | undefined {
  const text = env[GITHUB_TIMEOUT_ENV]?.trim();
  if (text === undefined || text === '') return undefined;
  const seconds = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(seconds > 0) || !Number.isFinite(seconds)) {
    throw new UsageError(`${GITHUB_TIMEOUT_ENV}=${JSON.stringify(env[GITHUB_TIMEOUT_ENV])}: expected a positive number of seconds (e.g. 60)`);
  }
  return Math.round(seconds * 1000);
}

export async function openWorkspace(ctx: CommandContext): Promise<Workspace> {
  const { root, config } = await loadWorkspaceConfig(ctx);
  const env = ctx.env;
  let git: SourceControl | undefined;
  let github: Promise<ReleaseHost | undefined> | undefined;
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
      if (github) return github;
      const repository = config.repository;
      if (!repository) return (github = Promise.resolve(undefined));
      const token = env['GITHUB_TOKEN'] || env['GH_TOKEN']; // an empty GITHUB_TOKEN (an unset secret in Actions) is none
      if (!token) {
        // Not cached: every call refuses alike.
        return Promise.reject(
          new UsageError(
            `services.json sets "repository": "${repository}", so GitHub releases need a token: set GITHUB_TOKEN (in Actions: env: GITHUB_TOKEN: \${{ secrets.GITHUB_TOKEN }}).`,
          ),
        );
      }
      let timeoutMs: number | undefined;
      try {
        timeoutMs = githubTimeoutMs(env);
      } catch (error) {
        return Promise.reject(error as Error);
      }
      // Octokit and its plugins load here, on the first command that talks to GitHub.
      return (github = import('./adapters/github-open.js').then(({ createGitHub }) =>
        createGitHub({
          repository,
          token,
          ...(env['GITHUB_API_URL'] ? { baseUrl: env['GITHUB_API_URL'] } : {}),
          ...(timeoutMs === undefined ? {} : { timeoutMs }),
        }),
      ));
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
