import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { buildLayerImage, createRegistryClient, pushImage } from '@slipway/registry';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { layer, REPOSITORY, releaseWorkspace, skopeoDigest, skopeoTags } from '../../test/fixtures.js';
import { runCli } from '../../test/run-cli.js';

const exec = promisify(execFile);

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
    // stderr is not a terminal (as in CI): the push is one line, with what it sent and how long it took.
    expect(run.stderr.split('\n').filter((line) => line.startsWith('pushed '))).toEqual([expect.stringMatching(new RegExp(`^pushed api@${manifest.digest} \\(\\d+(\\.\\d)? (B|KiB|MiB) in \\d+\\.\\d s\\)$`))]);
    // eslint-disable-next-line no-control-regex -- matching terminal controls is the point
    expect(run.stderr).not.toMatch(/[\r\u001b]/);
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

  it('a service that opted out of "Latest" stays out of it when its dispatch is recorded (make_latest sent on every update)', async () => {
    const ws = await releaseWorkspace({
      dispatch: { eventType: 'deploy' },
      services: {
        api: { root: 'apps/api', makeLatest: true, build: layer('apps/api') },
        vault: { root: 'apps/vault', build: layer('apps/vault') },
      },
    });
    await ws.tagRelease('api/v1.0.0');
    expect((await runCli(['publish', 'api/v1.0.0'], { cwd: ws.repo.dir, env: ws.env })).exitCode).toBe(0);
    const github = ws.github.repo(REPOSITORY);
    const api = github.releases.find((r) => r.tag_name === 'api/v1.0.0');
    expect(github.latestReleaseId).toBe(api?.id);

    await ws.tagRelease('vault/v1.0.0');
    const run = await runCli(['publish', 'vault/v1.0.0', '--json'], { cwd: ws.repo.dir, env: ws.env });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).dispatched).toBe(true);
    // The body-only update that records vault's dispatch must not hand it "Latest" (GitHub's default).
    expect(github.latestReleaseId).toBe(api?.id);
  });

  it('a GitHub rate limit that names no wait stops at once with exit 1 saying when to retry; the re-run converges', async () => {
    const ws = await releaseWorkspace();
    await ws.tagRelease('api/v1.0.0');
    ws.github.failNext({ method: 'POST', path: `/repos/${REPOSITORY}/releases`, status: 429, body: { message: 'You have exceeded a secondary rate limit.' } });
    const started = Date.now();
    const run = await runCli(['publish', 'api/v1.0.0'], { cwd: ws.repo.dir, env: ws.env });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/retry after \d{4}-\d{2}-\d{2}T/);
    // It did not retry after a few hundred milliseconds, nor sit out the minute inside the run.
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(ws.github.state.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/releases')).map((r) => r.status)).toEqual([429]);
    expect((await runCli(['publish', 'api/v1.0.0'], { cwd: ws.repo.dir, env: ws.env })).exitCode).toBe(0);
    expect(ws.github.repo(REPOSITORY).releases).toHaveLength(1);
  });

  it('a release create answered 404 (token without the workflow scope) is exit 3 with the fix, not "safe to retry"', async () => {
    const ws = await releaseWorkspace();
    await ws.tagRelease('api/v1.0.0');
    ws.github.failNext({ method: 'POST', path: `/repos/${REPOSITORY}/releases`, status: 404, body: { message: 'Not Found', status: '404' } });
    const run = await runCli(['publish', 'api/v1.0.0', '--json'], { cwd: ws.repo.dir, env: ws.env });
    expect(run.exitCode).toBe(3);
    expect(JSON.parse(run.stdout).error).toMatchObject({ code: 'E_GITHUB_WORKFLOW_SCOPE', message: expect.stringContaining('"workflow" scope') });
    expect(ws.github.repo(REPOSITORY).releases).toHaveLength(0);
  });

  it('a layer service without entrypoint is ready by check and publishes an image with none on scratch (schema and builder agree)', async () => {
    const ws = await releaseWorkspace({ services: { api: { root: 'apps/api', build: { type: 'layer', from: 'scratch', dir: 'apps/api' } } } });
    await ws.tagRelease('api/v1.0.0');
    const checked = JSON.parse((await runCli(['check', 'api', '--json'], { cwd: ws.repo.dir, env: ws.env })).stdout) as { services: { findings: { code: string }[] }[] };
    expect(checked.services[0]?.findings).toEqual([]);
    const run = await runCli(['publish', 'api/v1.0.0'], { cwd: ws.repo.dir, env: ws.env });
    expect(run.exitCode, run.stderr).toBe(0);
    const { stdout } = await exec('skopeo', ['inspect', '--config', '--tls-verify=false', `docker://${ws.registry.host}/acme/api:v1.0.0`]);
    const config = (JSON.parse(stdout) as { config?: Record<string, unknown> }).config ?? {};
    expect(config['Entrypoint']).toBeUndefined();
    expect(config['Labels']).toMatchObject({ 'org.opencontainers.image.revision': expect.stringMatching(/^[0-9a-f]{40}$/) });
  });

  it('an image pushed ahead of CI under the release tag with a forged revision label is refused (exit 3): a layer build is compared by digest', async () => {
    const ws = await releaseWorkspace();
    const commit = await ws.tagRelease('api/v1.0.0');
    // Someone with push access front-runs CI: other content, a label naming this very commit.
    const src = join(ws.repo.root, 'forged');
    await mkdir(src);
    await writeFile(join(src, 'server.js'), 'console.log("not what was reviewed")\n');
    const forged = await buildLayerImage({ from: 'scratch', dir: src, entrypoint: ['node', '/app/server.js'], revision: commit, version: '1.0.0' });
    const registry = createRegistryClient({ host: ws.registry.host, insecure: true });
    await pushImage({ registry, repository: 'acme/api', image: forged, tags: ['v1.0.0'] });

    const manifestPath = join(ws.repo.root, 'manifest.json');
    const run = await runCli(['publish', 'api/v1.0.0', '--manifest', manifestPath, '--json'], { cwd: ws.repo.dir, env: ws.env });
    expect(run.exitCode).toBe(3);
    expect(JSON.parse(run.stdout).error).toMatchObject({ code: 'E_IMMUTABLE_TAG', message: expect.stringContaining(forged.manifest.digest) });
    expect(await skopeoDigest(`${ws.registry.host}/acme/api:v1.0.0`)).toBe(forged.manifest.digest);
    expect(ws.github.repo(REPOSITORY).releases).toHaveLength(0);
    await expect(readFile(manifestPath, 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('docker builds are not reproducible: an existing tag must carry this commit and this version in its labels, else exit 3', async () => {
    const ws = await releaseWorkspace({ services: { api: { root: 'apps/api', build: { type: 'docker', context: 'apps/api' } } } });
    await ws.repo.commit('chore: dockerfile', { 'apps/api/Dockerfile': 'FROM scratch\nCOPY server.js /\n' });
    await ws.repo.push('main');
    const commit = await ws.tagRelease('api/v1.0.0');
    const src = join(ws.repo.root, 'forged');
    await mkdir(src);
    await writeFile(join(src, 'server.js'), 'console.log("other")\n');
    // The revision label is forged right; the version label is Slipway's and says another release.
    const forged = await buildLayerImage({ from: 'scratch', dir: src, revision: commit, version: '9.9.9' });
    await pushImage({ registry: createRegistryClient({ host: ws.registry.host, insecure: true }), repository: 'acme/api', image: forged, tags: ['v1.0.0'] });

    const run = await runCli(['publish', 'api/v1.0.0', '--json'], { cwd: ws.repo.dir, env: ws.env });
    expect(run.exitCode).toBe(3);
    expect(JSON.parse(run.stdout).error).toMatchObject({ code: 'E_IMMUTABLE_TAG', message: expect.stringContaining('labelled version 9.9.9, not 1.0.0') });
    expect(ws.github.repo(REPOSITORY).releases).toHaveLength(0);
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
