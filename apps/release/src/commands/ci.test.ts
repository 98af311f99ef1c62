import { describe, expect, it } from 'vitest';
import { commitStagingLine, REPOSITORY, releaseWorkspace, skopeoDigest, skopeoTags } from '../../test/fixtures.js';
import { runCli } from '../../test/run-cli.js';

const single = (dispatch = true) => ({
  scheme: 'single',
  ...(dispatch ? { dispatch: { eventType: 'deploy' } } : {}),
  services: { app: { root: 'apps/api', image: 'IMAGE', build: { type: 'layer', from: 'scratch', dir: 'apps/api', entrypoint: ['node'] } } },
});

async function singleWorkspace() {
  const ws = await releaseWorkspace();
  const config = single();
  config.services.app.image = `${ws.registry.host}/acme/app`;
  await ws.repo.commit('chore: single scheme', { 'services.json': JSON.stringify({ repository: REPOSITORY, insecureRegistries: [ws.registry.host], ...config }) });
  await ws.repo.push('main');
  return ws;
}

describe('slipway ci (single scheme, seed 000)', () => {
  it('a main push builds branch, sha and latest images and dispatches nothing: merging is not deploying', async () => {
    const ws = await singleWorkspace();
    const sha = await ws.repo.revParse('HEAD');
    const run = await runCli(['ci', '--event', 'push', '--ref', 'refs/heads/main', '--sha', sha, '--json'], { cwd: ws.repo.dir, env: ws.env });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ action: 'branch build (no deploy)', result: { dispatched: false } });
    expect(await skopeoTags(`${ws.registry.host}/acme/app`)).toEqual(['latest', 'main', `sha-${sha.slice(0, 7)}`]);
    expect(ws.github.repo(REPOSITORY).dispatches).toHaveLength(0);
    expect(ws.github.repo(REPOSITORY).releases).toHaveLength(0);
  });

  it('a semver tag publishes and dispatches a deploy by digest; a checkpoint tag builds but never deploys', async () => {
    const ws = await singleWorkspace();
    await ws.tagRelease('v1.4.0');
    const release = await runCli(['ci', '--event', 'push', '--ref', 'refs/tags/v1.4.0', '--json'], { cwd: ws.repo.dir, env: ws.env });
    expect(release.exitCode, release.stderr + release.stdout).toBe(0);
    const digest = await skopeoDigest(`${ws.registry.host}/acme/app:v1.4.0`);
    expect(digest).toMatch(/^sha256:/);
    expect(await skopeoDigest(`${ws.registry.host}/acme/app:1.4.0`)).toBe(digest);
    const dispatches = ws.github.repo(REPOSITORY).dispatches;
    expect(dispatches).toHaveLength(1);
    expect(JSON.stringify(dispatches[0])).toContain(digest);

    await ws.repo.commit('feat: more', { 'apps/api/server.js': 'console.log(2)\n' });
    await ws.repo.push('main');
    await ws.tagRelease('vnext-checkpoint');
    const checkpoint = await runCli(['ci', '--event', 'push', '--ref', 'refs/tags/vnext-checkpoint', '--json'], { cwd: ws.repo.dir, env: ws.env });
    expect(checkpoint.exitCode, checkpoint.stderr).toBe(0);
    expect(await skopeoDigest(`${ws.registry.host}/acme/app:vnext-checkpoint`)).toMatch(/^sha256:/);
    expect(ws.github.repo(REPOSITORY).dispatches).toHaveLength(1);
  });

  it('per-service: a main push publishes nothing', async () => {
    const ws = await releaseWorkspace();
    const run = await runCli(['ci', '--event', 'push', '--ref', 'refs/heads/main', '--json'], { cwd: ws.repo.dir, env: ws.env });
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout).action).toBe('nothing to do');
    expect(await skopeoTags(`${ws.registry.host}/acme/api`)).toEqual([]);
  });

  it('reads the event from the GitHub Actions environment, and says what is missing without it', async () => {
    const ws = await releaseWorkspace();
    const missing = await runCli(['ci'], { cwd: ws.repo.dir, env: ws.env });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('GITHUB_EVENT_NAME');
    const run = await runCli(['ci', '--json'], { cwd: ws.repo.dir, env: { ...ws.env, GITHUB_EVENT_NAME: 'pull_request', GITHUB_REF: 'refs/pull/1/merge' } });
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout).action).toBe('nothing to do');
  });
});

describe('slipway ci (staging-line scheme, seed 002)', () => {
  it('a staging push builds X.Y.Z-staging.N and staging; a main push promotes that digest to X.Y.Z and latest', async () => {
    const ws = await releaseWorkspace();
    const sha = await commitStagingLine(ws, { services: { api: { root: 'apps/api', build: { type: 'layer', from: 'scratch', dir: 'apps/api', entrypoint: ['node'] } } } });

    const staging = await runCli(['ci', '--event', 'push', '--ref', 'refs/heads/staging', '--sha', sha, '--json'], { cwd: ws.repo.dir, env: ws.env });
    expect(staging.exitCode, staging.stderr + staging.stdout).toBe(0);
    expect(JSON.parse(staging.stdout)).toMatchObject({ action: 'staging build', result: { version: '0.3.0-staging.0' } });
    const staged = await skopeoDigest(`${ws.registry.host}/acme/api:0.3.0-staging.0`);
    expect(await skopeoDigest(`${ws.registry.host}/acme/api:staging`)).toBe(staged);

    const main = await runCli(['ci', '--event', 'push', '--ref', 'refs/heads/main', '--sha', sha, '--json'], { cwd: ws.repo.dir, env: ws.env });
    expect(main.exitCode, main.stderr + main.stdout).toBe(0);
    expect(await skopeoDigest(`${ws.registry.host}/acme/api:0.3.0`)).toBe(staged);
    expect(await skopeoDigest(`${ws.registry.host}/acme/api:latest`)).toBe(staged);
    expect(ws.github.repo(REPOSITORY).releases.map((r) => [r.tag_name, r.prerelease])).toEqual([
      ['0.3.0-staging.0', true],
      ['0.3.0', false],
    ]);
  });
});
