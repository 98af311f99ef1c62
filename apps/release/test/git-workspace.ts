import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTempRepo, type TempRepo } from '@slipway/testing';
import { onTestFinished } from 'vitest';
import { runCli, type CliRun } from './run-cli.js';

export interface GitWorkspace {
  repo: TempRepo;
  env: NodeJS.ProcessEnv;
  /** Runs slipway in the work tree with the workspace's environment. */
  slipway(...argv: string[]): Promise<CliRun>;
  /** `slipway … --json`, parsed; fails the test when stdout is not JSON. */
  json<T = Record<string, unknown>>(...argv: string[]): Promise<{ exitCode: number; data: T; stderr: string }>;
  /** Annotated tag at `ref` (default HEAD), pushed to origin. */
  release(tag: string, ref?: string): Promise<string>;
  /** Commit on main and push it to origin. */
  land(message: string, files?: Record<string, string | null>): Promise<string>;
  /** Tag names in the work tree and in the bare origin. */
  tags(): Promise<{ local: string[]; origin: string[] }>;
}

const WORKSPACE_NODE_MODULES = fileURLToPath(new URL('../../../node_modules', import.meta.url));

/** A real git repo (with a bare origin) holding `services.json` and `files`; no Nx needed when services set `root`. */
export async function gitWorkspace(config: Record<string, unknown>, files: Record<string, string> = {}): Promise<GitWorkspace> {
  const repo = await createTempRepo({ files: { 'services.json': JSON.stringify(config, null, 2), ...files } });
  onTestFinished(repo.cleanup);
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], NO_COLOR: '1', HOME: repo.root, ...repo.env };
  const slipway = (...argv: string[]) => runCli(argv, { cwd: repo.dir, env });
  const list = async (dir: string) => (await repo.git('-C', dir, 'for-each-ref', '--format=%(refname:short)', 'refs/tags')).split('\n').filter(Boolean).sort();
  return {
    repo,
    env,
    slipway,
    async json<T>(...argv: string[]) {
      const run = await slipway(...argv, '--json');
      let data: T;
      try {
        data = JSON.parse(run.stdout) as T;
      } catch {
        throw new Error(`slipway ${argv.join(' ')} --json printed no JSON (exit ${run.exitCode}):\n${run.stdout}\n${run.stderr}`);
      }
      return { exitCode: run.exitCode, data, stderr: run.stderr };
    },
    async release(tag, ref = 'HEAD') {
      const commit = await repo.tag(tag, { ref, message: `release ${tag}` });
      await repo.push(`refs/tags/${tag}`);
      return commit;
    },
    async land(message, changes = {}) {
      const sha = await repo.commit(message, changes);
      await repo.push();
      return sha;
    },
    tags: async () => ({ local: await list(repo.dir), origin: await list(repo.origin) }),
  };
}

/**
 * A real Nx workspace (npm workspaces, one package.json per project, nx.json) in a git repo, with
 * `node_modules` linked to this monorepo's so `nx graph` runs offline. apps/api and apps/web
 * depend on libs/shared through their package.json; apps/worker depends on nothing.
 */
export async function nxWorkspace(config: Record<string, unknown>, files: Record<string, string> = {}): Promise<GitWorkspace> {
  const pkg = (name: string, deps: Record<string, string> = {}) => JSON.stringify({ name, version: '0.0.0', private: true, dependencies: deps });
  const ws = await gitWorkspace(config, {
    '.gitignore': 'node_modules\n.nx\n',
    'package.json': JSON.stringify({ name: 'acme', version: '0.0.0', private: true, workspaces: ['apps/*', 'libs/*'] }),
    'nx.json': '{}\n',
    'apps/api/package.json': pkg('api', { shared: '*' }),
    'apps/api/index.js': 'export const api = 1;\n',
    'apps/web/package.json': pkg('web', { shared: '*' }),
    'apps/web/index.js': 'export const web = 1;\n',
    'apps/worker/package.json': pkg('worker'),
    'apps/worker/index.js': 'export const worker = 1;\n',
    'libs/shared/package.json': pkg('shared'),
    'libs/shared/index.js': 'export const shared = 1;\n',
    ...files,
  });
  await symlink(WORKSPACE_NODE_MODULES, join(ws.repo.dir, 'node_modules'));
  return ws;
}
