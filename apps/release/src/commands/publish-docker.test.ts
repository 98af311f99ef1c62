import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildahSandbox, makeTestImage, processRunning, writeTestLayout } from '@slipway/testing';
import { execa } from 'execa';
import { describe, expect, it, onTestFinished } from 'vitest';
import { releaseWorkspace, skopeoDigest, skopeoTags, type ReleaseWorkspace } from '../../test/fixtures.js';
import { runCli } from '../../test/run-cli.js';

// build.type "docker" through the CLI with a real engine (buildah from Debian, chroot isolation,
// vfs storage in a private folder). skopeo, reading the registry, judges the digest publish reports
// and records.

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A tiny base image in the test registry, pushed by skopeo (the machine has no internet). */
async function pushBase(ws: ReleaseWorkspace, target: string): Promise<void> {
  const layout = await tempDir('slipway-base-');
  await writeTestLayout(layout, makeTestImage({ content: 'base\n' }), 'base');
  await execa('skopeo', ['copy', '--dest-tls-verify=false', `oci:${layout}:base`, `docker://${ws.registry.host}/${target}`]);
}

async function dockerWorkspace(build: Record<string, unknown>, files: Record<string, string>, service: Record<string, unknown> = {}): Promise<ReleaseWorkspace> {
  const ws = await releaseWorkspace();
  const config = JSON.parse(await readFile(join(ws.repo.dir, 'services.json'), 'utf8')) as { services: Record<string, unknown> };
  config.services = { api: { root: 'apps/api', ...service, build: { type: 'docker', context: 'apps/api', ...build } } };
  await ws.repo.commit('build(api): a Dockerfile', { 'services.json': JSON.stringify(config, null, 2), ...files });
  await ws.repo.push('main');
  return ws;
}

describe('slipway publish with build.type "docker"', () => {
  it('builds with buildah (build.engine), pushes, and reports and records the digest the registry holds; a re-run reuses it', async () => {
    const box = await buildahSandbox();
    onTestFinished(box.cleanup);
    const ws = await dockerWorkspace({ engine: 'buildah' }, {}, { imageTags: ['X.Y.Z', 'latest'] });
    await pushBase(ws, 'acme/base:1');
    await ws.repo.commit('feat(api): containerised', {
      'apps/api/Dockerfile': `FROM ${ws.registry.host}/acme/base:1\nCOPY server.js /app/server.js\n`,
    });
    await ws.repo.push('main');
    const commit = await ws.tagRelease('api/v1.0.0');
    const env = { ...ws.env, CONTAINERS_STORAGE_CONF: box.env['CONTAINERS_STORAGE_CONF'], BUILDAH_ISOLATION: 'chroot' };

    const manifestPath = join(ws.repo.root, 'manifest.json');
    const run = await runCli(['publish', 'api/v1.0.0', '--manifest', manifestPath, '--json'], { cwd: ws.repo.dir, env });
    expect(run.exitCode, run.stderr + run.stdout).toBe(0);
    expect(run.stderr).toContain('building api with buildah (services.api.build.engine)');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { digest: string; tags: string[]; commit: string };
    expect(manifest).toMatchObject({ commit });
    expect([...manifest.tags].sort()).toEqual(['1.0.0', 'latest', 'v1.0.0']);
    expect(JSON.parse(run.stdout).artifacts[0]).toMatchObject({ digest: manifest.digest, action: 'pushed' });
    // Every tag, the engine's pushes and the floating ones alike, holds the digest recorded.
    expect(await skopeoTags(`${ws.registry.host}/acme/api`)).toEqual(['1.0.0', 'latest', 'v1.0.0']);
    for (const tag of manifest.tags) expect(await skopeoDigest(`${ws.registry.host}/acme/api:${tag}`), tag).toBe(manifest.digest);
    const labels = JSON.parse((await execa('skopeo', ['inspect', '--tls-verify=false', `docker://${ws.registry.host}/acme/api:v1.0.0`])).stdout) as { Labels: Record<string, string> };
    // Provenance as a layer build records it: created is the commit's time (never the clock), as
    // label and as manifest annotation.
    const created = new Date(Number(await ws.repo.git('show', '-s', '--format=%ct', commit)) * 1000).toISOString().replace('.000Z', 'Z');
    const provenance = {
      'org.opencontainers.image.created': created,
      'org.opencontainers.image.revision': commit,
      'org.opencontainers.image.version': '1.0.0',
      'org.opencontainers.image.title': 'api',
    };
    expect(labels.Labels).toMatchObject(provenance);
    const raw = JSON.parse((await execa('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ws.registry.host}/acme/api:v1.0.0`])).stdout) as { annotations?: Record<string, string> };
    expect(raw.annotations).toMatchObject(provenance);
    const config = JSON.parse((await execa('skopeo', ['inspect', '--config', '--tls-verify=false', `docker://${ws.registry.host}/acme/api:v1.0.0`])).stdout) as { created: string };
    expect(config.created).toBe(created);

    // Not reproducible, so never rebuilt: the tag carries this commit and version, and is reused.
    const again = await runCli(['publish', 'api/v1.0.0', '--manifest', manifestPath, '--json'], { cwd: ws.repo.dir, env });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).artifacts[0]).toMatchObject({ digest: manifest.digest, action: 'unchanged' });
  });

  it('a build past build.timeout is stopped (an engine that hangs): exit 1 naming the deadline and the setting, nothing pushed', async () => {
    const bin = await tempDir('slipway-bin-');
    // SLIPWAY_BUILD_ENGINE picks buildah; the "buildah" on PATH hangs like a stuck RUN step.
    await writeFile(join(bin, 'buildah'), '#!/bin/sh\necho "STEP 1/2: RUN ./configure"\nexec sleep 300\n');
    await chmod(join(bin, 'buildah'), 0o755);
    const ws = await dockerWorkspace({ timeout: '2s' }, { 'apps/api/Dockerfile': 'FROM scratch\nCOPY server.js /server.js\n' });
    await ws.tagRelease('api/v1.0.0');
    const env = { ...ws.env, PATH: `${bin}:${ws.env['PATH'] ?? ''}`, SLIPWAY_BUILD_ENGINE: 'buildah' };

    const started = Date.now();
    const run = await runCli(['publish', 'api/v1.0.0', '--json'], { cwd: ws.repo.dir, env });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(run.exitCode, run.stderr).toBe(1);
    const { error } = JSON.parse(run.stdout) as { error: { code: string; message: string } };
    expect(error.code).toBe('E_BUILD_TIMEOUT');
    expect(error.message).toContain('did not finish within the build deadline of 2s');
    expect(error.message).toContain('STEP 1/2: RUN ./configure');
    expect(error.message).toContain('"timeout" in services.api.build');
    expect(run.stderr).toContain('building api with buildah (SLIPWAY_BUILD_ENGINE)');
    expect(await skopeoTags(`${ws.registry.host}/acme/api`)).toEqual([]);
  });

  it('slipway stopped by a signal (a cancelled CI job) stops the engine and every process it started', async () => {
    const bin = await tempDir('slipway-bin-');
    const pids = join(bin, 'pids');
    // An engine that starts a helper and hangs; both pids are written once it runs.
    await writeFile(join(bin, 'buildah'), `#!/bin/sh\nsleep 300 &\necho "$$ $!" > ${JSON.stringify(pids)}.tmp\nmv ${JSON.stringify(pids)}.tmp ${JSON.stringify(pids)}\nexec sleep 300\n`);
    await chmod(join(bin, 'buildah'), 0o755);
    const ws = await dockerWorkspace({}, { 'apps/api/Dockerfile': 'FROM scratch\nCOPY server.js /server.js\n' });
    await ws.tagRelease('api/v1.0.0');
    const env = { ...ws.env, PATH: `${bin}:${ws.env['PATH'] ?? ''}`, SLIPWAY_BUILD_ENGINE: 'buildah' };

    // Its own process, so the signal is real (the in-process runCli cannot be signalled).
    const cli = execa(process.execPath, [fileURLToPath(new URL('../../bin/slipway.js', import.meta.url)), 'publish', 'api/v1.0.0'], { cwd: ws.repo.dir, env, extendEnv: false, reject: false });
    await expect.poll(() => readFile(pids, 'utf8').catch(() => ''), { timeout: 30_000, interval: 100 }).not.toBe('');
    const [engine, helper] = (await readFile(pids, 'utf8')).trim().split(' ').map(Number);
    cli.kill('SIGTERM');
    const result = await cli;
    expect(result.signal ?? result.exitCode, result.stderr).toBe('SIGTERM');
    for (const pid of [engine, helper]) await expect.poll(() => processRunning(pid ?? 0), { timeout: 5000 }).toBe(false);
    expect(await skopeoTags(`${ws.registry.host}/acme/api`)).toEqual([]);
  });

  it('no engine installed: exit 2 naming every engine tried and how to pick one; a bad SLIPWAY_BUILD_ENGINE is exit 2 before anything', async () => {
    // A PATH with git only: no docker, podman or buildah.
    const bin = await tempDir('slipway-bin-');
    const git = (await execa('sh', ['-c', 'command -v git'])).stdout.trim();
    await mkdir(bin, { recursive: true });
    await symlink(git, join(bin, 'git'));
    const ws = await dockerWorkspace({}, { 'apps/api/Dockerfile': 'FROM scratch\nCOPY server.js /server.js\n' });
    await ws.tagRelease('api/v1.0.0');

    const run = await runCli(['publish', 'api/v1.0.0', '--json'], { cwd: ws.repo.dir, env: { ...ws.env, PATH: bin } });
    expect(run.exitCode, run.stderr).toBe(2);
    const { error } = JSON.parse(run.stdout) as { error: { code: string; message: string } };
    expect(error.code).toBe('E_BUILD_TOOL_MISSING');
    expect(error.message).toContain('docker (not installed), podman (not installed), buildah (not installed)');
    expect(error.message).toContain('"engine": "docker" | "podman" | "buildah" in services.api.build, or SLIPWAY_BUILD_ENGINE');

    const bad = await runCli(['publish', 'api/v1.0.0', '--json'], { cwd: ws.repo.dir, env: { ...ws.env, SLIPWAY_BUILD_ENGINE: 'kaniko' } });
    expect(bad.exitCode, bad.stderr).toBe(2);
    expect(JSON.parse(bad.stdout).error.message).toContain('SLIPWAY_BUILD_ENGINE="kaniko" is not a build engine');
    expect(await skopeoTags(`${ws.registry.host}/acme/api`)).toEqual([]);
  });
});
