import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { createTempRepo, startGitHubDouble, startRegistry, type GitHubDouble, type RegistryPeer, type TempRepo } from '@slipway/testing';
import { onTestFinished } from 'vitest';

const exec = promisify(execFile);
export const GITHUB_TOKEN = 'ghp_slipwayTestToken0123456789abcdefABCD';
export const REPOSITORY = 'acme/platform';

export interface ReleaseWorkspace {
  repo: TempRepo;
  registry: RegistryPeer;
  github: GitHubDouble;
  env: NodeJS.ProcessEnv;
  /** Commit a change, push main, and tag+push a release tag there (also known to the GitHub double, as a push would make it). */
  tagRelease(tag: string, ref?: string): Promise<string>;
}

const layer = (dir: string) => ({ type: 'layer', from: 'scratch', dir, entrypoint: ['node', '/app/server.js'] });

/**
 * A two-service per-service workspace (api, vault) with layer builds, a real registry and the
 * GitHub double, every peer stopped when the test finishes.
 */
export async function releaseWorkspace(config: Record<string, unknown> = {}): Promise<ReleaseWorkspace> {
  const registry = await startRegistry();
  onTestFinished(() => registry.stop());
  const github = await startGitHubDouble({ tokens: [GITHUB_TOKEN] });
  onTestFinished(() => github.close());
  const services = {
    repository: REPOSITORY,
    registry: `${registry.host}/acme`,
    insecureRegistries: [registry.host],
    services: {
      api: { root: 'apps/api', build: layer('apps/api') },
      vault: { root: 'apps/vault', build: layer('apps/vault') },
    },
    ...config,
  };
  const repo = await createTempRepo({
    files: {
      'services.json': JSON.stringify(services, null, 2),
      'apps/api/server.js': 'console.log("api")\n',
      'apps/vault/server.js': 'console.log("vault")\n',
    },
  });
  onTestFinished(repo.cleanup);
  const env = { PATH: process.env['PATH'], NO_COLOR: '1', GITHUB_TOKEN, GITHUB_API_URL: github.url, HOME: repo.root, ...repo.env };
  return {
    repo,
    registry,
    github,
    env,
    async tagRelease(tag, ref = 'HEAD') {
      const commit = await repo.tag(tag, { ref, message: `release ${tag}` });
      await repo.push(`refs/tags/${tag}`);
      github.repo(REPOSITORY).refs.set(`refs/tags/${tag}`, { sha: commit, type: 'commit' });
      return commit;
    },
  };
}

/** The digest skopeo computes for what the registry serves: an independent witness. */
export async function skopeoDigest(ref: string): Promise<string | undefined> {
  try {
    const { stdout } = await exec('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`], { encoding: 'buffer' });
    return `sha256:${createHash('sha256').update(stdout).digest('hex')}`;
  } catch {
    return undefined;
  }
}

export async function skopeoTags(repo: string): Promise<string[]> {
  try {
    const { stdout } = await exec('skopeo', ['list-tags', '--tls-verify=false', `docker://${repo}`]);
    return (JSON.parse(stdout) as { Tags: string[] }).Tags.sort();
  } catch {
    return [];
  }
}
