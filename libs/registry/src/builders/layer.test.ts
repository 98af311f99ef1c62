import { chmod, chown, mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { computeDigest } from '../digest.js';
import { openOciLayout } from '../oci-layout.js';
import { pushImage } from '../push-image.js';
import { MediaTypes, type Registry } from '../types.js';
import { BuildError } from './errors.js';
import { buildLayerImage, buildLayerImages, layerPlatforms, type LayerBuildOptions } from './layer.js';

const COMMIT = '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d';

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-layer-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

interface Variant {
  mtime: number;
  fileMode: number;
  execMode: number;
  uid: number;
  reverse: boolean;
}

/** The same app written twice the way two checkouts differ: times, umask, owner, creation order. */
async function writeApp(root: string, v: Variant, serverSource = 'require("./lib/util.js");\n'): Promise<string> {
  const dir = join(root, 'app-src');
  const files: [string, string][] = [
    ['server.js', serverSource],
    ['lib/util.js', 'module.exports = 1;\n'],
    ['bin/start', '#!/bin/sh\nexec node /app/server.js\n'],
    ['package.json', '{"name":"api","version":"1.2.3"}\n'],
  ];
  await mkdir(join(dir, 'static'), { recursive: true });
  for (const [path, content] of v.reverse ? [...files].reverse() : files) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
    await chmod(join(dir, path), path === 'bin/start' ? v.execMode : v.fileMode);
  }
  await symlink('server.js', join(dir, 'main.js'));
  for (const path of ['server.js', 'lib/util.js', 'bin/start', 'package.json', 'lib', 'bin', 'static', '.']) {
    // Changing owners needs root; elsewhere the other differences still apply.
    if (process.getuid?.() === 0) await chown(join(dir, path), v.uid, v.uid);
    await utimes(join(dir, path), v.mtime, v.mtime);
  }
  return dir;
}

function options(dir: string, extra: Partial<LayerBuildOptions> = {}): LayerBuildOptions {
  return {
    from: 'scratch',
    dir,
    entrypoint: ['node', '/app/server.js'],
    source: 'https://github.com/acme/platform',
    revision: COMMIT,
    version: '1.2.3',
    sourceDateEpoch: 1_700_000_000,
    ...extra,
  };
}

function json(bytes: Uint8Array): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}

async function skopeoDigest(ref: string): Promise<string> {
  const { stdout } = await execa('skopeo', ['inspect', '--format', '{{.Digest}}', ref]);
  return stdout.trim();
}

describe('buildLayerImage', () => {
  it('gives byte-identical images for the same input, whatever the disk metadata and the clock say', async () => {
    const first = await writeApp(await tempDir(), { mtime: 1_000_000, fileMode: 0o644, execMode: 0o755, uid: 0, reverse: false });
    const second = await writeApp(await tempDir(), { mtime: 1_900_000_000, fileMode: 0o600, execMode: 0o700, uid: 4321, reverse: true });

    vi.useFakeTimers({ toFake: ['Date'] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    vi.setSystemTime(new Date('2031-05-06T07:08:09Z'));
    const a = await buildLayerImage(options(first));
    vi.setSystemTime(new Date('1999-12-31T23:59:59Z'));
    const b = await buildLayerImage(options(second));
    vi.useRealTimers();

    expect(b.manifest.digest).toBe(a.manifest.digest);
    expect(Buffer.from(b.layers[0]?.bytes ?? []).equals(Buffer.from(a.layers[0]?.bytes ?? []))).toBe(true);
    expect(Buffer.from(b.config.bytes).equals(Buffer.from(a.config.bytes))).toBe(true);

    // Two pushes into two different layout folders: the same digest lands in both.
    const dirs = [await tempDir(), await tempDir()];
    for (const [i, image] of [a, b].entries()) {
      await pushImage({ registry: openOciLayout(dirs[i] ?? ''), repository: 'api', image, tags: ['v1.2.3'] });
    }
    expect(await skopeoDigest(`oci:${dirs[0]}/api:v1.2.3`)).toBe(a.manifest.digest);
    expect(await skopeoDigest(`oci:${dirs[1]}/api:v1.2.3`)).toBe(a.manifest.digest);
  });

  it('changes the digest when content or the source date changes', async () => {
    const v: Variant = { mtime: 5, fileMode: 0o644, execMode: 0o755, uid: 0, reverse: false };
    const base = await buildLayerImage(options(await writeApp(await tempDir(), v)));
    const edited = await buildLayerImage(options(await writeApp(await tempDir(), v, 'console.log(2);\n')));
    const later = await buildLayerImage(options(await writeApp(await tempDir(), v), { sourceDateEpoch: 1_700_000_001 }));
    const noExec = await writeApp(await tempDir(), v);
    await chmod(join(noExec, 'bin/start'), 0o644);
    const notExecutable = await buildLayerImage(options(noExec));
    const digests = new Set([base, edited, later, notExecutable].map((image) => image.manifest.digest));
    expect(digests.size).toBe(4);
  });

  it('writes a layer the system tar reads: sorted paths under app/, normalized modes, owner 0/0, fixed mtime', async () => {
    const dir = await tempDir();
    const image = await buildLayerImage(options(await writeApp(dir, { mtime: 123, fileMode: 0o600, execMode: 0o700, uid: 999, reverse: true })));
    const file = join(dir, 'layer.tar.gz');
    await writeFile(file, image.layers[0]?.bytes ?? new Uint8Array());
    const { stdout } = await execa('tar', ['--numeric-owner', '--full-time', '-tvzf', file], { env: { TZ: 'UTC' } });
    const rows = stdout.trim().split('\n').map((line) => line.split(/\s+/));
    expect(rows.map((r) => `${r[0]} ${r[1]} ${r[3]}T${r[4]} ${r.slice(5).join(' ')}`)).toEqual([
      'drwxr-xr-x 0/0 2023-11-14T22:13:20 app/',
      'drwxr-xr-x 0/0 2023-11-14T22:13:20 app/bin/',
      '-rwxr-xr-x 0/0 2023-11-14T22:13:20 app/bin/start',
      'drwxr-xr-x 0/0 2023-11-14T22:13:20 app/lib/',
      '-rw-r--r-- 0/0 2023-11-14T22:13:20 app/lib/util.js',
      'lrwxrwxrwx 0/0 2023-11-14T22:13:20 app/main.js -> server.js',
      '-rw-r--r-- 0/0 2023-11-14T22:13:20 app/package.json',
      '-rw-r--r-- 0/0 2023-11-14T22:13:20 app/server.js',
      'drwxr-xr-x 0/0 2023-11-14T22:13:20 app/static/',
    ]);
    // The source folder's absolute path is in nothing we produce.
    for (const bytes of [image.manifest.bytes, image.config.bytes, gunzipSync(image.layers[0]?.bytes ?? new Uint8Array())]) {
      expect(Buffer.from(bytes).includes(dir)).toBe(false);
    }
  });

  it('places the folder under a configurable prefix, or at the root', async () => {
    const v: Variant = { mtime: 5, fileMode: 0o644, execMode: 0o755, uid: 0, reverse: false };
    const dir = await tempDir();
    const src = await writeApp(dir, v);
    for (const [prefix, first] of [['/opt/api/', 'opt/'], ['', 'bin/']] as const) {
      const image = await buildLayerImage(options(src, { prefix }));
      const file = join(dir, `layer-${first.replace('/', '')}.tar.gz`);
      await writeFile(file, image.layers[0]?.bytes ?? new Uint8Array());
      const { stdout } = await execa('tar', ['-tzf', file]);
      expect(stdout.split('\n')[0]).toBe(first);
      if (prefix) expect(stdout).toContain('opt/api/server.js');
      else expect(stdout).toContain('\nserver.js');
    }
  });

  it('writes an OCI config with entrypoint, labels, diff_ids and a fixed created time, and annotates the manifest', async () => {
    const image = await buildLayerImage(
      options(await writeApp(await tempDir(), { mtime: 5, fileMode: 0o644, execMode: 0o755, uid: 0, reverse: false }), {
        labels: { team: 'payments' },
        env: { NODE_ENV: 'production' },
        workingDir: '/app',
        platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
      }),
    );
    const config = json(image.config.bytes);
    expect(config['created']).toBe('2023-11-14T22:13:20Z');
    expect(`${String(config['os'])}/${String(config['architecture'])}/${String(config['variant'])}`).toBe('linux/arm64/v8');
    expect(config['config']).toEqual({
      Env: ['NODE_ENV=production'],
      Entrypoint: ['node', '/app/server.js'],
      WorkingDir: '/app',
      Labels: {
        'org.opencontainers.image.created': '2023-11-14T22:13:20Z',
        'org.opencontainers.image.revision': COMMIT,
        'org.opencontainers.image.source': 'https://github.com/acme/platform',
        'org.opencontainers.image.version': '1.2.3',
        team: 'payments',
      },
    });
    const layer = image.layers[0]?.bytes ?? new Uint8Array();
    expect(config['rootfs']).toEqual({ type: 'layers', diff_ids: [computeDigest(new Uint8Array(gunzipSync(layer)))] });
    expect(image.diffId).toBe(computeDigest(new Uint8Array(gunzipSync(layer))));

    const manifest = json(image.manifest.bytes);
    expect(manifest['mediaType']).toBe(MediaTypes.ociManifest);
    expect(manifest['config']).toEqual({ mediaType: MediaTypes.ociConfig, digest: image.config.digest, size: image.config.bytes.length });
    expect(manifest['layers']).toEqual([{ mediaType: MediaTypes.ociLayerGzip, digest: computeDigest(layer), size: layer.length }]);
    expect(manifest['annotations']).toEqual({
      'org.opencontainers.image.created': '2023-11-14T22:13:20Z',
      'org.opencontainers.image.revision': COMMIT,
      'org.opencontainers.image.source': 'https://github.com/acme/platform',
      'org.opencontainers.image.version': '1.2.3',
    });

    // skopeo agrees on what the image is.
    const out = await tempDir();
    await pushImage({ registry: openOciLayout(out), repository: 'api', image, tags: ['v1.2.3'] });
    const { stdout } = await execa('skopeo', ['inspect', `oci:${out}/api:v1.2.3`]);
    const inspected = JSON.parse(stdout) as { Labels: Record<string, string>; Architecture: string; Created: string };
    expect(inspected.Labels['org.opencontainers.image.revision']).toBe(COMMIT);
    expect(inspected.Architecture).toBe('arm64');
    expect(inspected.Created).toBe('2023-11-14T22:13:20Z');
  });

  it('appends the layer to a base image read through the Registry, and pushes elsewhere with the base layers', async () => {
    const v: Variant = { mtime: 5, fileMode: 0o644, execMode: 0o755, uid: 0, reverse: false };
    const baseDir = await tempDir();
    const baseStore = openOciLayout(baseDir);
    const baseSrc = join(await tempDir(), 'base');
    await mkdir(join(baseSrc, 'bin'), { recursive: true });
    await writeFile(join(baseSrc, 'bin', 'node'), 'not really node');
    const baseImage = await buildLayerImage({
      from: 'scratch',
      dir: baseSrc,
      prefix: 'usr/local/',
      entrypoint: ['/usr/local/bin/node'],
      cmd: ['--version'],
      env: { PATH: '/usr/local/bin:/usr/bin', NODE_ENV: 'development' },
      labels: { 'org.example.base': 'yes' },
    });
    await pushImage({ registry: baseStore, repository: 'node', image: baseImage, tags: ['20'] });

    const app = await buildLayerImage(
      options(await writeApp(await tempDir(), v), {
        from: { registry: baseStore, repository: 'node', reference: '20', name: 'oci-layout:base/node:20' },
        env: { NODE_ENV: 'production' },
      }),
    );
    const config = json(app.config.bytes);
    const run = config['config'] as Record<string, unknown>;
    expect(run['Entrypoint']).toEqual(['node', '/app/server.js']);
    expect(run['Cmd']).toBeUndefined(); // ENTRYPOINT without CMD drops the base's CMD, as in a Dockerfile
    expect(run['Env']).toEqual(['NODE_ENV=production', 'PATH=/usr/local/bin:/usr/bin']);
    expect((run['Labels'] as Record<string, string>)['org.example.base']).toBe('yes');
    expect((config['rootfs'] as { diff_ids: string[] }).diff_ids).toEqual([baseImage.diffId, app.diffId]);
    expect((config['history'] as unknown[]).length).toBe(2);
    expect(app.layers.map((l) => l.digest)).toEqual([baseImage.layers[0]?.digest, app.layers[1]?.digest]);
    expect(app.layers[0]?.bytes).toBeUndefined(); // not downloaded while building
    expect(json(app.manifest.bytes)['annotations']).toMatchObject({
      'org.opencontainers.image.base.digest': baseImage.manifest.digest,
      'org.opencontainers.image.base.name': 'oci-layout:base/node:20',
    });

    // Pushing to another store reads the base layer from where it lives; skopeo checks every blob.
    const targetDir = await tempDir();
    const result = await pushImage({ registry: openOciLayout(targetDir), repository: 'api', image: app, tags: ['v1.2.3'] });
    expect(result.pushed.blobs).toBe(3);
    const policy = join(targetDir, 'policy.json');
    await writeFile(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
    await execa('skopeo', ['--policy', policy, 'copy', `oci:${targetDir}/api:v1.2.3`, `oci:${targetDir}/verify:v1.2.3`]);
    expect(await skopeoDigest(`oci:${targetDir}/verify:v1.2.3`)).toBe(app.manifest.digest);
  });

  it('picks the configured platform from an index base, and says which platforms exist when it is missing', async () => {
    const store = openOciLayout(await tempDir());
    const children = [];
    for (const architecture of ['amd64', 'arm64']) {
      const src = join(await tempDir(), architecture);
      await mkdir(src);
      await writeFile(join(src, 'arch'), architecture);
      const image = await buildLayerImage({ from: 'scratch', dir: src, prefix: '', entrypoint: ['/arch'], platform: { architecture, os: 'linux' } });
      await pushImage({ registry: store, repository: 'base', image, tags: [] });
      children.push({ image, architecture });
    }
    const indexBytes = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaTypes.ociIndex,
        manifests: children.map(({ image, architecture }) => ({
          mediaType: image.manifest.mediaType,
          digest: image.manifest.digest,
          size: image.manifest.bytes.length,
          platform: { architecture, os: 'linux' },
        })),
      }),
    );
    await store.putManifest('base', 'multi', { mediaType: MediaTypes.ociIndex, bytes: indexBytes });

    const src = await writeApp(await tempDir(), { mtime: 5, fileMode: 0o644, execMode: 0o755, uid: 0, reverse: false });
    const from = { registry: store, repository: 'base', reference: 'multi' };
    const arm = await buildLayerImage(options(src, { from, platform: { architecture: 'arm64', os: 'linux' } }));
    expect(arm.layers[0]?.digest).toBe(children[1]?.image.layers[0]?.digest);
    expect(json(arm.manifest.bytes)['annotations']).toMatchObject({ 'org.opencontainers.image.base.digest': computeDigest(indexBytes) });

    const error = await buildLayerImage(options(src, { from, platform: { architecture: 's390x', os: 'linux' } })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildError);
    expect(error).toMatchObject({ code: 'E_BUILD_INPUT', exitCode: 2 });
    expect((error as Error).message).toContain('linux/amd64, linux/arm64');
  });

  it('turns a Docker v2 base into OCI media types', async () => {
    const store: Registry = openOciLayout(await tempDir());
    const layerBytes = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const configBytes = new TextEncoder().encode(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    await store.pushBlob('base', { digest: computeDigest(layerBytes), bytes: layerBytes });
    await store.pushBlob('base', { digest: computeDigest(configBytes), bytes: configBytes });
    const manifest = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaTypes.dockerManifest,
        config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: computeDigest(configBytes), size: configBytes.length },
        layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: computeDigest(layerBytes), size: layerBytes.length }],
      }),
    );
    await store.putManifest('base', 'docker', { mediaType: MediaTypes.dockerManifest, bytes: manifest });
    const src = await writeApp(await tempDir(), { mtime: 5, fileMode: 0o644, execMode: 0o755, uid: 0, reverse: false });
    const image = await buildLayerImage(options(src, { from: { registry: store, repository: 'base', reference: 'docker' } }));
    expect((json(image.manifest.bytes)['layers'] as { mediaType: string }[]).map((l) => l.mediaType)).toEqual([
      MediaTypes.ociLayerGzip,
      MediaTypes.ociLayerGzip,
    ]);
  });

  it('without an entrypoint, inherits the base image\'s entrypoint and cmd; on scratch the image has none', async () => {
    const baseStore = openOciLayout(await tempDir());
    const baseSrc = await tempDir();
    await writeFile(join(baseSrc, 'node'), 'not really node');
    const baseImage = await buildLayerImage({ from: 'scratch', dir: baseSrc, entrypoint: ['/app/node'], cmd: ['--version'] });
    await pushImage({ registry: baseStore, repository: 'node', image: baseImage, tags: ['20'] });
    const app = await tempDir();
    await writeFile(join(app, 'server.js'), 'x');

    const { entrypoint: _dropped, ...noEntrypoint } = options(app);
    const inherited = json((await buildLayerImage({ ...noEntrypoint, from: { registry: baseStore, repository: 'node', reference: '20' } })).config.bytes);
    expect(inherited['config']).toMatchObject({ Entrypoint: ['/app/node'], Cmd: ['--version'] });
    const withCmd = json((await buildLayerImage({ ...noEntrypoint, cmd: ['server.js'], from: { registry: baseStore, repository: 'node', reference: '20' } })).config.bytes);
    expect(withCmd['config']).toMatchObject({ Entrypoint: ['/app/node'], Cmd: ['server.js'] });

    const bare = json((await buildLayerImage(noEntrypoint)).config.bytes)['config'] as Record<string, unknown>;
    expect(bare['Entrypoint']).toBeUndefined();
    expect(bare['Cmd']).toBeUndefined();
  });

  it('refuses a missing folder or an empty entrypoint as bad input', async () => {
    const dir = await tempDir();
    await expect(buildLayerImage(options(join(dir, 'nope')))).rejects.toMatchObject({ name: 'BuildError', code: 'E_BUILD_INPUT', exitCode: 2 });
    await writeFile(join(dir, 'file'), 'x');
    await expect(buildLayerImage(options(join(dir, 'file')))).rejects.toMatchObject({ code: 'E_BUILD_INPUT' });
    await expect(buildLayerImage(options(dir, { entrypoint: [] }))).rejects.toMatchObject({ code: 'E_BUILD_INPUT' });
  });
});

/** An index over one tiny image per architecture, plus an attestation entry, in an OCI layout. */
async function multiPlatformBase(architectures: readonly string[]): Promise<{ store: Registry; digest: string; children: string[] }> {
  const store = openOciLayout(await tempDir());
  const manifests = [];
  for (const architecture of architectures) {
    const src = join(await tempDir(), architecture);
    await mkdir(src);
    await writeFile(join(src, 'arch'), architecture);
    const image = await buildLayerImage({ from: 'scratch', dir: src, prefix: '', platform: { architecture, os: 'linux' }, labels: { 'org.example.base': architecture } });
    await pushImage({ registry: store, repository: 'base', image, tags: [] });
    manifests.push({ mediaType: image.manifest.mediaType, digest: image.manifest.digest, size: image.manifest.bytes.length, platform: { architecture, os: 'linux' } });
  }
  // BuildKit's provenance entry: annotated as an attestation, and not an image to build on.
  const first = manifests[0];
  if (first) manifests.push({ ...first, platform: { architecture: 'unknown', os: 'unknown' }, annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } } as never);
  const bytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests }));
  const digest = await store.putManifest('base', 'multi', { mediaType: MediaTypes.ociIndex, bytes });
  return { store, digest, children: manifests.slice(0, architectures.length).map((m) => m.digest) };
}

describe('buildLayerImages', () => {
  const v: Variant = { mtime: 5, fileMode: 0o644, execMode: 0o755, uid: 0, reverse: false };

  it('on an index base builds every platform it offers into an index, one layer file for all, the same digest every time', async () => {
    const base = await multiPlatformBase(['amd64', 'arm64']);
    const src = await writeApp(await tempDir(), v);
    const spoolDir = await tempDir();
    const { entrypoint: _entrypoint, ...rest } = options(src);
    const from = { registry: base.store, repository: 'base', reference: 'multi', name: 'registry.example/acme/base:multi' };
    const built = await buildLayerImages({ ...rest, from, spoolDir });
    expect(built.images.map((i) => `${i.platform.os}/${i.platform.architecture}`)).toEqual(['linux/amd64', 'linux/arm64']);
    // The layer is streamed once: one file in the spool folder, named by every image.
    expect(await readdir(spoolDir)).toHaveLength(1);
    expect(new Set(built.images.map((i) => i.layers.at(-1)?.path)).size).toBe(1);

    const index = json(built.manifest.bytes);
    expect(built.manifest.mediaType).toBe(MediaTypes.ociIndex);
    expect(index['annotations']).toEqual({
      'org.opencontainers.image.base.digest': base.digest,
      'org.opencontainers.image.base.name': 'registry.example/acme/base:multi',
      'org.opencontainers.image.created': '2023-11-14T22:13:20Z',
      'org.opencontainers.image.revision': COMMIT,
      'org.opencontainers.image.source': 'https://github.com/acme/platform',
      'org.opencontainers.image.version': '1.2.3',
    });
    for (const image of built.images) {
      const labels = (json(image.config.bytes)['config'] as { Labels: Record<string, string> }).Labels;
      expect(labels['org.example.base']).toBe(image.platform.architecture); // each platform's own base config
      expect(labels['org.opencontainers.image.created']).toBe('2023-11-14T22:13:20Z');
    }

    const again = await buildLayerImages({ ...rest, from, spoolDir: await tempDir() });
    expect(again.manifest.digest).toBe(built.manifest.digest);

    // skopeo reads the index and each platform's image from a layout Slipway wrote.
    const out = await tempDir();
    await pushImage({ registry: openOciLayout(out), repository: 'api', image: built, tags: ['v1'] });
    const { stdout } = await execa('skopeo', ['inspect', '--raw', `oci:${out}/api:v1`]);
    expect(computeDigest(new TextEncoder().encode(stdout))).toBe(built.manifest.digest);
    for (const architecture of ['amd64', 'arm64']) {
      const inspected = await execa('skopeo', ['--override-arch', architecture, 'inspect', `oci:${out}/api:v1`]);
      expect((JSON.parse(inspected.stdout) as { Architecture: string }).Architecture).toBe(architecture);
    }
  });

  it('one platform asked for gives a single manifest; a platform the base lacks fails before any file is read, naming those it offers', async () => {
    const base = await multiPlatformBase(['amd64', 'arm64']);
    const from = { registry: base.store, repository: 'base', reference: 'multi' };
    const src = await writeApp(await tempDir(), v);
    const one = await buildLayerImages(options(src, { from, platforms: [{ architecture: 'arm64', os: 'linux', variant: 'v8' }] }));
    expect(one.manifest.mediaType).toBe(MediaTypes.ociManifest);
    expect(one.images).toHaveLength(1);
    expect(json(one.manifest.bytes)['layers']).toHaveLength(2);

    const missing = join(await tempDir(), 'not-there');
    const error = await buildLayerImages(options(missing, { from, platforms: [{ architecture: 'amd64', os: 'linux' }, { architecture: 's390x', os: 'linux' }] })).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'BuildError', code: 'E_BUILD_INPUT', exitCode: 2 });
    expect((error as Error).message).toBe('base base:multi does not offer platform linux/s390x (it offers: linux/amd64, linux/arm64); list only those in build.platforms');
    await expect(layerPlatforms({ from, platforms: [{ architecture: 's390x', os: 'linux' }] })).rejects.toMatchObject({ code: 'E_BUILD_INPUT' });
    expect(await layerPlatforms({ from })).toEqual([{ architecture: 'amd64', os: 'linux' }, { architecture: 'arm64', os: 'linux' }]);
  });

  it('on an arm64-only image, builds arm64 without being told; on scratch, one image per platform asked for', async () => {
    const base = await multiPlatformBase(['arm64']);
    const child = base.children[0] ?? '';
    const src = await writeApp(await tempDir(), v);
    const arm = await buildLayerImage(options(src, { from: { registry: base.store, repository: 'base', reference: child } }));
    expect(json(arm.config.bytes)['architecture']).toBe('arm64');

    const scratch = await buildLayerImages(options(src, { platforms: [{ architecture: 'amd64', os: 'linux' }, { architecture: 'arm', os: 'linux', variant: 'v7' }] }));
    const index = json(scratch.manifest.bytes) as { manifests: { platform: unknown }[] };
    expect(index.manifests.map((m) => m.platform)).toEqual([{ architecture: 'amd64', os: 'linux' }, { architecture: 'arm', os: 'linux', variant: 'v7' }]);
    expect(scratch.images.map((i) => json(i.config.bytes)['variant'])).toEqual([undefined, 'v7']);
    await expect(buildLayerImages(options(src, { platforms: [{ architecture: 'amd64', os: 'linux' }, { architecture: 'amd64', os: 'linux' }] }))).rejects.toThrow(/listed twice/);
  });

  it('writes user and exposed ports, adds to the base\'s ports, and refuses provenance labels, bad ports and env names', async () => {
    const src = await writeApp(await tempDir(), v);
    const image = await buildLayerImage(options(src, { user: 'node', exposedPorts: ['8080', '53/udp'], cmd: [] }));
    const run = json(image.config.bytes)['config'] as Record<string, unknown>;
    expect(run['User']).toBe('node');
    expect(run['ExposedPorts']).toEqual({ '53/udp': {}, '8080/tcp': {} });
    expect(run['Cmd']).toBeUndefined();
    await expect(buildLayerImage(options(src, { exposedPorts: ['0/tcp'] }))).rejects.toMatchObject({ code: 'E_BUILD_INPUT', message: expect.stringContaining('exposedPorts: "0/tcp"') });
    await expect(buildLayerImage(options(src, { labels: { 'org.opencontainers.image.revision': 'x' } }))).rejects.toMatchObject({ code: 'E_BUILD_INPUT' });
    await expect(buildLayerImage(options(src, { env: { 'A=B': 'x' } }))).rejects.toMatchObject({ code: 'E_BUILD_INPUT' });
  });
});
