import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPOSITORY, releaseWorkspace, skopeoDigest, skopeoTags } from '../../test/fixtures.js';
import { runCli } from '../../test/run-cli.js';

describe('slipway publish (per-service)', () => {
  it('a tag on main becomes an image in its own repository, a release and a manifest; a re-run changes nothing', async () => {
    const ws = await releaseWorkspace();
    await ws.repo.commit('feat(api): hello (#12)', { 'apps/api/server.js': 'console.log("api v1")\n' });
    await ws.repo.push('main');
    const commit = await ws.tagRelease('api/v1.0.0');

    const manifestPath = join(ws.repo.root, 'manifest.json');
    const run = await runCli(['publish', 'api/v1.0.0', '--manifest', manifestPath, '--json'], { cwd: ws.repo.dir, env: ws.env });
    expect(run.exitCode, run.stderr + run.stdout).toBe(0);
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    expect(manifest).toMatchObject({ schema: 1, service: 'api', version: '1.0.0', tag: 'api/v1.0.0', commit, image: `${ws.registry.host}/acme/api`, tags: ['v1.0.0'], prerelease: false, deploy: true });
    // The registry holds exactly that digest under the tag (skopeo as witness), in api's repository only.
    expect(await skopeoDigest(`${ws.registry.host}/acme/api:v1.0.0`)).toBe(manifest.digest);
    expect(await skopeoTags(`${ws.registry.host}/acme/vault`)).toEqual([]);
    const releases = ws.github.repo(REPOSITORY).releases;
    expect(releases).toHaveLength(1);
    expect(releases[0]).toMatchObject({ tag_name: 'api/v1.0.0', prerelease: false, target_commitish: commit });
    expect(releases[0]?.body).toContain(manifest.digest);
    expect(releases[0]?.body).toContain('hello');

    const again = await runCli(['publish', 'api/v1.0.0', '--manifest', manifestPath, '--json'], { cwd: ws.repo.dir, env: ws.env });
    expect(again.exitCode, again.stderr).toBe(0);
    const second = JSON.parse(again.stdout);
    expect(second.artifacts[0]).toMatchObject({ action: 'unchanged', digest: manifest.digest });
    expect(second.release.action).toBe('unchanged');
    expect(ws.github.repo(REPOSITORY).releases).toHaveLength(1);
    expect(JSON.parse(await readFile(manifestPath, 'utf8'))).toEqual(manifest);
  });

  it('refuses a tag that is not on main (exit 3) before anything reaches the registry', async () => {
    const ws = await releaseWorkspace();
    await ws.repo.git('checkout', '-q', '-b', 'feature');
    await ws.repo.commit('feat(api): unreviewed', { 'apps/api/server.js': 'console.log("sneaky")\n' });
    await ws.tagRelease('api/v9.0.0');
    await ws.repo.git('checkout', '-q', 'main');
    const run = await runCli(['publish', 'api/v9.0.0'], { cwd: ws.repo.dir, env: ws.env });
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain('not reachable from origin/main');
    expect(await skopeoTags(`${ws.registry.host}/acme/api`)).toEqual([]);
    expect(ws.github.repo(REPOSITORY).releases).toHaveLength(0);
  });

  it('prereleaseFrom "any-branch": a canary from a feature branch publishes, a stable tag there is still refused', async () => {
    const ws = await releaseWorkspace({ prereleaseFrom: 'any-branch' });
    await ws.repo.git('checkout', '-q', '-b', 'feature');
    await ws.repo.commit('feat(api): canary', { 'apps/api/server.js': 'console.log("canary")\n' });
    await ws.tagRelease('api/v1.1.0-canary.0');
    await ws.tagRelease('api/v1.1.0');
    await ws.repo.git('checkout', '-q', 'main');

    const canary = await runCli(['publish', 'api/v1.1.0-canary.0', '--json'], { cwd: ws.repo.dir, env: ws.env });
    expect(canary.exitCode, canary.stderr).toBe(0);
    expect(canary.stderr).toContain('prereleaseFrom is "any-branch"');
    expect(await skopeoTags(`${ws.registry.host}/acme/api`)).toEqual(['v1.1.0-canary.0']);
    expect(ws.github.repo(REPOSITORY).releases[0]).toMatchObject({ tag_name: 'api/v1.1.0-canary.0', prerelease: true });

    const stable = await runCli(['publish', 'api/v1.1.0'], { cwd: ws.repo.dir, env: ws.env });
    expect(stable.exitCode).toBe(3);
    expect(stable.stderr).toContain('not reachable from origin/main');
    expect(await skopeoTags(`${ws.registry.host}/acme/api`)).toEqual(['v1.1.0-canary.0']);

    // A service can take it back: its own "main" wins over the workspace's setting.
    const strict = await releaseWorkspace({
      prereleaseFrom: 'any-branch',
      services: { api: { root: 'apps/api', prereleaseFrom: 'main', build: { type: 'layer', from: 'scratch', dir: 'apps/api', entrypoint: ['node'] } } },
    });
    await strict.repo.git('checkout', '-q', '-b', 'feature');
    await strict.repo.commit('feat(api): canary', { 'apps/api/server.js': 'console.log("canary")\n' });
    await strict.tagRelease('api/v1.1.0-canary.0');
    const refused = await runCli(['publish', 'api/v1.1.0-canary.0'], { cwd: strict.repo.dir, env: strict.env });
    expect(refused.exitCode).toBe(3);
    expect(refused.stderr).toContain('"prereleaseFrom": "any-branch"');
  });

  it('an rc is a prerelease with only its exact tag: no latest, no floating tags', async () => {
    const ws = await releaseWorkspace({
      services: { api: { root: 'apps/api', imageTags: ['X.Y.Z', 'X.Y', 'latest'], build: { type: 'layer', from: 'scratch', dir: 'apps/api', entrypoint: ['node'] } } },
    });
    await ws.tagRelease('api/v1.2.0-rc.1');
    const run = await runCli(['publish', 'api/v1.2.0-rc.1', '--json'], { cwd: ws.repo.dir, env: ws.env });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(await skopeoTags(`${ws.registry.host}/acme/api`)).toEqual(['v1.2.0-rc.1']);
    expect(ws.github.repo(REPOSITORY).releases[0]).toMatchObject({ tag_name: 'api/v1.2.0-rc.1', prerelease: true });

    await ws.tagRelease('api/v1.2.0');
    expect((await runCli(['publish', 'api/v1.2.0'], { cwd: ws.repo.dir, env: ws.env })).exitCode).toBe(0);
    expect(await skopeoTags(`${ws.registry.host}/acme/api`)).toEqual(['1.2', '1.2.0', 'latest', 'v1.2.0', 'v1.2.0-rc.1']);
    const latest = await skopeoDigest(`${ws.registry.host}/acme/api:latest`);
    expect(latest).toBe(await skopeoDigest(`${ws.registry.host}/acme/api:v1.2.0`));
  });

  it('refuses to re-point an existing image tag built from another commit (exit 3)', async () => {
    const ws = await releaseWorkspace();
    await ws.tagRelease('api/v1.0.0');
    expect((await runCli(['publish', 'api/v1.0.0'], { cwd: ws.repo.dir, env: ws.env })).exitCode).toBe(0);
    const before = await skopeoDigest(`${ws.registry.host}/acme/api:v1.0.0`);
    // Someone deletes and re-creates the git tag elsewhere: the image tag must not follow.
    await ws.repo.commit('fix(api): later', { 'apps/api/server.js': 'console.log("later")\n' });
    await ws.repo.push('main');
    await ws.repo.git('tag', '-d', 'api/v1.0.0');
    await ws.repo.git('push', 'origin', ':refs/tags/api/v1.0.0');
    await ws.tagRelease('api/v1.0.0');
    await ws.repo.git('fetch', '-q', 'origin');
    const run = await runCli(['publish', 'api/v1.0.0'], { cwd: ws.repo.dir, env: ws.env });
    expect(run.exitCode).toBe(3);
    expect(await skopeoDigest(`${ws.registry.host}/acme/api:v1.0.0`)).toBe(before);
  });

  it('an invalid tag is exit 2 and writes nothing', async () => {
    const ws = await releaseWorkspace();
    const run = await runCli(['publish', 'web/v1.0.0'], { cwd: ws.repo.dir, env: ws.env });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('unknown service "web"');
    expect(await skopeoTags(`${ws.registry.host}/acme/api`)).toEqual([]);
  });

  it('--dry-run computes the digest and writes nothing', async () => {
    const ws = await releaseWorkspace();
    await ws.tagRelease('vault/v0.1.0');
    const run = await runCli(['publish', 'vault/v0.1.0', '--dry-run', '--json'], { cwd: ws.repo.dir, env: ws.env });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).artifacts[0]).toMatchObject({ action: 'planned', digest: expect.stringMatching(/^sha256:/) });
    expect(await skopeoTags(`${ws.registry.host}/acme/vault`)).toEqual([]);
    expect(ws.github.repo(REPOSITORY).releases).toHaveLength(0);
  });
});
