import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

// The throwaway workspace the demo releases from: a small Nx monorepo (three services sharing a
// library), a short conventional-commit history and a bare origin beside it.

const monorepoModules = fileURLToPath(new URL('../../../node_modules', import.meta.url));

const layer = (dir: string) => ({ type: 'layer', from: 'scratch', dir, entrypoint: ['node', '/app/index.js'] });

export const SERVICES_JSON = {
  scheme: 'per-service',
  environments: {
    staging: {},
    canary: { after: 'staging' },
    production: { after: 'canary', approvals: 1, approvers: ['release-manager'] },
  },
  pins: { repo: '.', path: 'deploy/{environment}/{service}.yaml', format: 'pin' },
  services: {
    api: { project: 'api', build: layer('apps/api') },
    web: { project: 'web', build: layer('apps/web') },
    worker: { project: 'worker', build: layer('apps/worker') },
  },
};

const pkg = (name: string, deps: Record<string, string> = {}) => `${JSON.stringify({ name, version: '0.0.0', private: true, dependencies: deps }, null, 2)}\n`;

const INITIAL: Record<string, string> = {
  '.gitignore': 'node_modules\n.nx\n.slipway\n',
  'package.json': `${JSON.stringify({ name: 'platform', private: true, workspaces: ['apps/*', 'libs/*'] }, null, 2)}\n`,
  'nx.json': '{}\n',
  'services.json': `${JSON.stringify(SERVICES_JSON, null, 2)}\n`,
  'libs/shared/package.json': pkg('shared'),
  'libs/shared/index.js': 'export const requestId = () => crypto.randomUUID();\n',
  'apps/api/package.json': pkg('api', { shared: '*' }),
  'apps/api/index.js': 'console.log("api");\n',
  'apps/web/package.json': pkg('web', { shared: '*' }),
  'apps/web/index.js': 'console.log("web");\n',
  'apps/worker/package.json': pkg('worker'),
  'apps/worker/index.js': 'console.log("worker");\n',
};

export const HISTORY: Array<[message: string, files: Record<string, string>]> = [
  ['feat(shared): request ids on every log line (#1)', { 'libs/shared/index.js': 'export const requestId = () => `req-${crypto.randomUUID()}`;\n' }],
  ['feat(api): health endpoint (#2)', { 'apps/api/index.js': 'console.log("api with /healthz");\n' }],
  ['fix(web): escape page titles (#3)', { 'apps/web/index.js': 'console.log("web, escaped");\n' }],
  ['feat(worker)!: nightly job replaces the hourly one (#4)', { 'apps/worker/index.js': 'console.log("worker, nightly");\n' }],
];

export interface DemoWorkspace {
  root: string;
  dir: string;
  origin: string;
  git(...args: string[]): Promise<string>;
  commit(message: string, files: Record<string, string>): Promise<void>;
}

export async function createDemoWorkspace(): Promise<DemoWorkspace> {
  const root = await mkdtemp(join(tmpdir(), 'slipway-demo-'));
  const dir = join(root, 'platform');
  const origin = join(root, 'origin.git');
  await mkdir(dir);
  const env = { GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' };
  const git = async (...args: string[]) => (await execa('git', args, { cwd: dir, env })).stdout;
  const write = async (files: Record<string, string>) => {
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
  };
  const commit = async (message: string, files: Record<string, string>) => {
    await write(files);
    await git('add', '-A');
    await git('commit', '-q', '-m', message);
    await git('push', '-q', 'origin', 'main');
  };
  await execa('git', ['init', '-q', '--bare', '-b', 'main', origin]);
  await git('init', '-q', '-b', 'main');
  const settings = { 'user.name': 'Dana Developer', 'user.email': 'dana@example.com', 'commit.gpgsign': 'false', 'tag.gpgsign': 'false' };
  for (const [key, value] of Object.entries(settings)) await git('config', key, value);
  await git('remote', 'add', 'origin', origin);
  // Nx reads the project graph with this monorepo's own install: nothing to download.
  await symlink(monorepoModules, join(dir, 'node_modules'), 'dir');
  await commit('chore: the platform monorepo', INITIAL);
  for (const [message, files] of HISTORY) await commit(message, files);
  return { root, dir, origin, git, commit };
}
