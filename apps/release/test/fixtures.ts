import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { createTempRepo, startGitHubDouble, startRegistry, type GitHubDouble, type RegistryPeer, type TempRepo } from '@slipway/testing';
import { onTestFinished } from 'vitest';
import { PLANTED, withPlantedUserinfo } from './run-cli.js';

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

/** A reproducible `layer` build of a folder holding server.js (what the workspaces below carry). */
export const layer = (dir: string) => ({ type: 'layer', from: 'scratch', dir, entrypoint: ['node', '/app/server.js'] });

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
  // The double knows every commit of the test's clone, as if each had been pushed to GitHub.
  github.repo(REPOSITORY, { origin: repo.dir });
  // Planted secrets: every CLI run is searched for them (run-cli.ts).
  const env = {
    PATH: process.env['PATH'],
    NO_COLOR: '1',
    GITHUB_TOKEN,
    GITHUB_API_URL: withPlantedUserinfo(github.url),
    GHCR_TOKEN: PLANTED.ghcrToken,
    HOME: repo.root,
    ...repo.env,
  };
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

/**
 * Turns a release workspace into a staging-line one (seed 002) at base 0.3.0 with its changelog,
 * on main at origin; returns the commit. `github: false` leaves `repository` out (git tags only).
 */
export async function commitStagingLine(
  ws: ReleaseWorkspace,
  options: { services: Record<string, unknown>; github?: boolean },
): Promise<string> {
  const config = {
    ...(options.github === false ? {} : { repository: REPOSITORY }),
    scheme: 'staging-line',
    registry: `${ws.registry.host}/acme`,
    insecureRegistries: [ws.registry.host],
    services: options.services,
  };
  await ws.repo.commit('chore: staging line', {
    'services.json': JSON.stringify(config),
    'package.json': JSON.stringify({ name: 'acme', version: '0.3.0' }),
    'docs/development/CHANGELOGS/0.3.0.md': '# 0.3.0\n\n- Staged.\n',
  });
  await ws.repo.push('main');
  return ws.repo.revParse('HEAD');
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
