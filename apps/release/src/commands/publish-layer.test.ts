// Layer builds as container tools see them (issue 18 items 2-4): several platforms under one
// index, the build configuration of services.json in the image config, and provenance that
// describes this image, not its base. skopeo reads what the registry holds; umoci unpacks each
// platform's image; the bases are seeded with skopeo from layouts written without Slipway.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTestImage, makeTestIndex, writeTestLayout, type TestImage, type TestIndex } from '@slipway/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { REPOSITORY, releaseWorkspace, skopeoTags, type ReleaseWorkspace } from '../../test/fixtures.js';
import { runCli } from '../../test/run-cli.js';

const exec = promisify(execFile);

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
}
interface Manifest {
  mediaType: string;
  manifests?: Descriptor[];
  layers?: Descriptor[];
  annotations?: Record<string, string>;
}
interface ImageConfig {
  architecture: string;
  os: string;
  created: string;
  config: { Labels?: Record<string, string>; Env?: string[]; Cmd?: string[]; Entrypoint?: string[]; WorkingDir?: string; User?: string; ExposedPorts?: Record<string, object> };
}

// What a base built by someone else says about itself: none of it may reach the image built on it.
const BASE_LABELS = {
  'org.opencontainers.image.source': 'https://github.com/nodejs/docker-node',
  'org.opencontainers.image.title': 'node',
  'org.opencontainers.image.version': '20.11.0',
  'org.opencontainers.image.revision': 'f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed',
  'org.opencontainers.image.created': '2001-02-03T04:05:06Z',
  'org.opencontainers.image.base.name': 'docker.io/library/debian:bookworm',
  'org.opencontainers.image.base.digest': `sha256:${'d'.repeat(64)}`,
  'org.opencontainers.image.description': 'Node.js',
  'org.opencontainers.image.url': 'https://nodejs.org',
  'org.opencontainers.image.licenses': 'MIT',
  'com.example.base': 'yes',
};

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-publish-layer-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Push `content` to `<host>/<target>` with skopeo, from a layout written without Slipway. */
async function seed(ws: ReleaseWorkspace, content: TestImage | TestIndex, target: string): Promise<void> {
  const dir = await tempDir();
  await writeTestLayout(dir, content, 'seed');
  await exec('skopeo', ['copy', '--all', '--dest-tls-verify=false', `oci:${dir}:seed`, `docker://${ws.registry.host}/${target}`]);
}

async function raw(ref: string): Promise<Manifest> {
  const { stdout } = await exec('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
  return JSON.parse(stdout) as Manifest;
}

async function config(ref: string): Promise<ImageConfig> {
  const { stdout } = await exec('skopeo', ['inspect', '--config', '--tls-verify=false', `docker://${ref}`]);
  return JSON.parse(stdout) as ImageConfig;
}

/** Pull one image by digest with skopeo and unpack it with umoci: the files a container would see. */
async function unpackedFiles(ref: string): Promise<string[]> {
  const layout = join(await tempDir(), 'layout');
  await exec('skopeo', ['copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${layout}:pulled`]);
  const bundle = join(await tempDir(), 'bundle');
  await exec('umoci', ['unpack', '--rootless', '--image', `${layout}:pulled`, bundle]);
  return (await readdir(join(bundle, 'rootfs'), { recursive: true })).sort();
}

const platformOf = (d: Descriptor) => `${d.platform?.os}/${d.platform?.architecture}${d.platform?.variant ? `/${d.platform.variant}` : ''}`;

async function commitTime(ws: ReleaseWorkspace, commit: string): Promise<string> {
  const { stdout } = await exec('git', ['-C', ws.repo.dir, 'log', '-1', '--format=%ct', commit]);
  return new Date(Number(stdout.trim()) * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

interface PublishJson {
  artifacts?: { digest: string; action: string }[];
  error?: { code: string; message: string };
}

async function publish(ws: ReleaseWorkspace, tag: string): Promise<{ exitCode: number; data: PublishJson; stderr: string }> {
  const run = await runCli(['publish', tag, '--json'], { cwd: ws.repo.dir, env: ws.env });
  return { exitCode: run.exitCode, data: run.stdout === '' ? {} : (JSON.parse(run.stdout) as PublishJson), stderr: run.stderr };
}

function apiService(host: string, build: Record<string, unknown>): Record<string, unknown> {
  return { services: { api: { root: 'apps/api', build: { type: 'layer', dir: 'apps/api', entrypoint: ['node', '/app/server.js'], ...build } } }, insecureRegistries: [host] };
}

describe('layer builds: platforms, configuration, provenance', () => {
  it('on a 2-platform base, publishes an index of both platforms (attestations left out), each pullable with the base layers and the one app layer; a re-build gives the same index digest', async () => {
    const ws = await releaseWorkspace();
    const amd64 = makeTestImage({ architecture: 'amd64', fileName: 'base-amd64.txt', labels: BASE_LABELS });
    const arm64 = makeTestImage({ architecture: 'arm64', fileName: 'base-arm64.txt', labels: BASE_LABELS });
    // BuildKit's attestation entry: platform unknown/unknown, not an image to build on.
    const attestation = makeTestImage({ architecture: 'unknown', os: 'unknown', fileName: 'provenance.json' });
    const base = makeTestIndex([amd64, arm64, attestation]);
    await seed(ws, base, 'acme/base:1');
    const from = `${ws.registry.host}/acme/base:1`;
    await ws.repo.commit('chore: layer on a multi-platform base', { 'services.json': JSON.stringify({ repository: REPOSITORY, registry: `${ws.registry.host}/acme`, ...apiService(ws.registry.host, { from }) }) });
    await ws.repo.push('main');
    const commit = await ws.tagRelease('api/v1.0.0');

    const first = await publish(ws, 'api/v1.0.0');
    expect(first.exitCode, first.stderr).toBe(0);
    const image = `${ws.registry.host}/acme/api`;
    const index = await raw(`${image}:v1.0.0`);
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests?.map(platformOf)).toEqual(['linux/amd64', 'linux/arm64']);
    const created = await commitTime(ws, commit);
    expect(index.annotations).toEqual({
      'org.opencontainers.image.base.digest': base.digest,
      'org.opencontainers.image.base.name': from,
      'org.opencontainers.image.created': created,
      'org.opencontainers.image.revision': commit,
      'org.opencontainers.image.source': `https://github.com/${REPOSITORY}`,
      'org.opencontainers.image.title': 'api',
      'org.opencontainers.image.version': '1.0.0',
    });
    // base.name is a reference a user can inspect: it names the base whose digest is recorded.
    const { stdout: baseRaw } = await exec('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${index.annotations?.['org.opencontainers.image.base.name']}`], { encoding: 'buffer' });
    expect(baseRaw.equals(Buffer.from(base.bytes))).toBe(true);

    const appLayers = new Set<string>();
    for (const [i, child] of (index.manifests ?? []).entries()) {
      const architecture = ['amd64', 'arm64'][i] as string;
      const ref = `${image}@${child.digest}`;
      const manifest = await raw(ref);
      expect(manifest.annotations).toEqual(index.annotations);
      const baseImage = [amd64, arm64][i] as TestImage;
      expect(manifest.layers?.map((l) => l.digest).slice(0, -1)).toEqual(baseImage.layers.map((l) => l.digest));
      appLayers.add(manifest.layers?.at(-1)?.digest ?? '');
      const cfg = await config(ref);
      expect(cfg.architecture).toBe(architecture);
      expect(cfg.created).toBe(created);
      // The base's own provenance is gone; what Slipway knows replaces it; the base's licence and its other labels stay.
      expect(cfg.config.Labels).toEqual({
        'com.example.base': 'yes',
        'org.opencontainers.image.base.digest': base.digest,
        'org.opencontainers.image.base.name': from,
        'org.opencontainers.image.created': created,
        'org.opencontainers.image.licenses': 'MIT',
        'org.opencontainers.image.revision': commit,
        'org.opencontainers.image.source': `https://github.com/${REPOSITORY}`,
        'org.opencontainers.image.title': 'api',
        'org.opencontainers.image.version': '1.0.0',
      });
      expect(await unpackedFiles(ref)).toEqual(['app', 'app/server.js', `base-${architecture}.txt`]);
    }
    // One layer blob, built once, in both images.
    expect(appLayers.size).toBe(1);

    // Built again from the same commit: the same index digest, so the existing tag is reused.
    const again = await publish(ws, 'api/v1.0.0');
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.data.artifacts?.[0]).toMatchObject({ digest: first.data.artifacts?.[0]?.digest, action: 'unchanged' });
  });

  it('on scratch with two platforms, one manifest per platform under an index; services.json\'s cmd, env, workingDir, user, labels and exposedPorts are in each config', async () => {
    const ws = await releaseWorkspace();
    const build = {
      from: 'scratch',
      platforms: ['linux/amd64', 'linux/arm64/v8'],
      cmd: ['--port', '8080'],
      env: { NODE_ENV: 'production', PORT: '8080' },
      workingDir: '/app',
      user: '1000:1000',
      labels: { 'org.opencontainers.image.description': 'The API', team: 'payments' },
      exposedPorts: ['8080/tcp', '9090', '53/udp'],
    };
    await ws.repo.commit('chore: scratch on two platforms', { 'services.json': JSON.stringify({ repository: REPOSITORY, registry: `${ws.registry.host}/acme`, ...apiService(ws.registry.host, build) }) });
    await ws.repo.push('main');
    const commit = await ws.tagRelease('api/v1.0.0');
    const run = await publish(ws, 'api/v1.0.0');
    expect(run.exitCode, run.stderr).toBe(0);

    const image = `${ws.registry.host}/acme/api`;
    const index = await raw(`${image}:v1.0.0`);
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests?.map(platformOf)).toEqual(['linux/amd64', 'linux/arm64/v8']);
    expect(index.annotations?.['org.opencontainers.image.base.name']).toBeUndefined();
    const created = await commitTime(ws, commit);
    const layers = new Set<string>();
    for (const [i, child] of (index.manifests ?? []).entries()) {
      const ref = `${image}@${child.digest}`;
      const manifest = await raw(ref);
      expect(manifest.layers).toHaveLength(1);
      layers.add(manifest.layers?.[0]?.digest ?? '');
      const cfg = await config(ref);
      expect(cfg.architecture).toBe(['amd64', 'arm64'][i]);
      expect(cfg.config).toEqual({
        Entrypoint: ['node', '/app/server.js'],
        Cmd: ['--port', '8080'],
        Env: ['NODE_ENV=production', 'PORT=8080'],
        WorkingDir: '/app',
        User: '1000:1000',
        ExposedPorts: { '53/udp': {}, '8080/tcp': {}, '9090/tcp': {} },
        Labels: {
          'org.opencontainers.image.created': created,
          'org.opencontainers.image.description': 'The API',
          'org.opencontainers.image.revision': commit,
          'org.opencontainers.image.source': `https://github.com/${REPOSITORY}`,
          'org.opencontainers.image.title': 'api',
          'org.opencontainers.image.version': '1.0.0',
          team: 'payments',
        },
      });
    }
    expect(layers.size).toBe(1);
    expect(await unpackedFiles(`${image}@${index.manifests?.[1]?.digest}`)).toEqual(['app', 'app/server.js']);
  });

  it('on an arm64-only base with no platforms configured, publishes a single arm64 manifest (no index)', async () => {
    const ws = await releaseWorkspace();
    const base = makeTestImage({ architecture: 'arm64', fileName: 'base.txt' });
    await seed(ws, base, 'acme/base-arm:1');
    await ws.repo.commit('chore: arm base', {
      'services.json': JSON.stringify({ repository: REPOSITORY, registry: `${ws.registry.host}/acme`, ...apiService(ws.registry.host, { from: `${ws.registry.host}/acme/base-arm:1` }) }),
    });
    await ws.repo.push('main');
    await ws.tagRelease('api/v1.0.0');
    const check = await runCli(['check', 'api', '--json'], { cwd: ws.repo.dir, env: ws.env });
    expect(check.exitCode, check.stdout).toBe(0);
    const run = await publish(ws, 'api/v1.0.0');
    expect(run.exitCode, run.stderr).toBe(0);

    const ref = `${ws.registry.host}/acme/api:v1.0.0`;
    const manifest = await raw(ref);
    expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(manifest.layers?.map((l) => l.digest).slice(0, 1)).toEqual(base.layers.map((l) => l.digest));
    expect((await config(ref)).architecture).toBe('arm64');
    expect(await unpackedFiles(ref)).toEqual(['app', 'app/server.js', 'base.txt']);
  });

  it('a platform the base does not offer: check and publish exit 2 naming it and the ones offered, before anything is pushed', async () => {
    const ws = await releaseWorkspace();
    const base = makeTestIndex([makeTestImage({ architecture: 'amd64' }), makeTestImage({ architecture: 'arm64' })]);
    await seed(ws, base, 'acme/base:1');
    await ws.repo.commit('chore: a platform too many', {
      'services.json': JSON.stringify({
        repository: REPOSITORY,
        registry: `${ws.registry.host}/acme`,
        ...apiService(ws.registry.host, { from: `${ws.registry.host}/acme/base:1`, platforms: ['linux/amd64', 'linux/s390x'] }),
      }),
    });
    await ws.repo.push('main');
    await ws.tagRelease('api/v1.0.0');

    const check = await runCli(['check', 'api', '--json'], { cwd: ws.repo.dir, env: ws.env });
    expect(check.exitCode).toBe(2);
    const findings = (JSON.parse(check.stdout) as { services: { findings: { code: string; message: string }[] }[] }).services[0]?.findings;
    expect(findings).toEqual([
      { code: 'E_CHECK_LAYER_PLATFORM', message: expect.stringMatching(/^services\.api\.build\.platforms: .*does not offer platform linux\/s390x \(it offers: linux\/amd64, linux\/arm64\)/) },
    ]);

    const run = await publish(ws, 'api/v1.0.0');
    expect(run.exitCode).toBe(2);
    expect(run.data.error).toMatchObject({ code: 'E_BUILD_CONFIG', message: expect.stringContaining('linux/s390x (it offers: linux/amd64, linux/arm64)') });
    expect(await skopeoTags(`${ws.registry.host}/acme/api`)).toEqual([]);
    expect(ws.github.repo(REPOSITORY).releases).toHaveLength(0);
  });

  it.each([
    ['exposedPorts', { exposedPorts: ['8080/tcp', '80/http'] }, /services\.api\.build\.exposedPorts\[1\]: must be port or port\/protocol/],
    ['env', { env: { 'BAD NAME': 'x' } }, /services\.api\.build\.env\["BAD NAME"\]: environment variable names/],
    ['workingDir', { workingDir: 'app' }, /services\.api\.build\.workingDir: build\.workingDir must be an absolute path/],
    ['user', { user: '' }, /services\.api\.build\.user: build\.user must not be empty/],
    ['labels', { labels: { 'org.opencontainers.image.created': '2020-01-01T00:00:00Z' } }, /services\.api\.build\.labels\["org\.opencontainers\.image\.created"\]: is written by slipway/],
    ['cmd', { cmd: 'server.js' }, /services\.api\.build\.cmd: .*expected array/],
    ['platforms', { platforms: ['amd64'] }, /services\.api\.build\.platforms\[0\]: must be os\/architecture/],
  ])('a bad %s is exit 2 naming the field, from check and from publish, and nothing is pushed', async (_field, build, message) => {
    const ws = await releaseWorkspace();
    await ws.repo.commit('chore: bad build config', { 'services.json': JSON.stringify({ repository: REPOSITORY, registry: `${ws.registry.host}/acme`, ...apiService(ws.registry.host, { from: 'scratch', ...build }) }) });
    await ws.repo.push('main');
    await ws.tagRelease('api/v1.0.0');
    const check = await runCli(['check', '--json'], { cwd: ws.repo.dir, env: ws.env });
    expect(check.exitCode).toBe(2);
    expect(JSON.parse(check.stdout).error.message).toMatch(message);
    const run = await publish(ws, 'api/v1.0.0');
    expect(run.exitCode).toBe(2);
    expect(run.data.error?.message).toMatch(message);
    expect(await skopeoTags(`${ws.registry.host}/acme/api`)).toEqual([]);
  });

  it('a base in an OCI layout is recorded by digest only: no base.name, its path nowhere; without a repository no source, and the base\'s never', async () => {
    const ws = await releaseWorkspace();
    const layouts = await tempDir();
    const base = makeTestImage({ architecture: 'amd64', fileName: 'base.txt', labels: BASE_LABELS });
    await writeTestLayout(join(layouts, 'node'), base, '20');
    await ws.repo.commit('chore: layout base', { 'services.json': JSON.stringify({ registry: `${ws.registry.host}/acme`, ...apiService(ws.registry.host, { from: `oci-layout:${layouts}/node:20` }) }) });
    await ws.repo.push('main');
    await ws.tagRelease('api/v1.0.0');
    const run = await publish(ws, 'api/v1.0.0');
    expect(run.exitCode, run.stderr).toBe(0);

    const ref = `${ws.registry.host}/acme/api:v1.0.0`;
    const manifest = await raw(ref);
    expect(manifest.annotations?.['org.opencontainers.image.base.digest']).toBe(base.digest);
    expect(manifest.annotations?.['org.opencontainers.image.base.name']).toBeUndefined();
    expect(manifest.annotations?.['org.opencontainers.image.source']).toBeUndefined();
    const labels = (await config(ref)).config.Labels ?? {};
    expect(labels).toEqual({
      'com.example.base': 'yes',
      'org.opencontainers.image.base.digest': base.digest,
      'org.opencontainers.image.created': expect.stringMatching(/^20\d\d-/),
      'org.opencontainers.image.licenses': 'MIT',
      'org.opencontainers.image.revision': expect.stringMatching(/^[0-9a-f]{40}$/),
      'org.opencontainers.image.title': 'api',
      'org.opencontainers.image.version': '1.0.0',
    });
    const { stdout } = await exec('skopeo', ['inspect', '--config', '--raw', '--tls-verify=false', `docker://${ref}`]);
    expect(JSON.stringify(manifest).includes(layouts) || stdout.includes(layouts)).toBe(false);
  });
});
