import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it, onTestFinished } from 'vitest';
import { computeDigest } from './digest.js';
import { DigestMismatchError, NotFoundError } from './errors.js';
import { gzipReproducible } from './gzip.js';
import { OciLayoutError, openOciLayout } from './oci-layout.js';
import { writeTar } from './tar.js';
import { MediaTypes, type Registry, type StoredManifest } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));
const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-layout-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A minimal runnable-looking image: one layer with one file, OCI config and manifest. */
function tinyImage(content: string, platform = { architecture: 'amd64', os: 'linux' }) {
  const tar = writeTar([{ type: 'file', path: 'hello.txt', data: new TextEncoder().encode(content) }]);
  const layer = gzipReproducible(tar);
  const config = encode({ ...platform, config: { Entrypoint: ['/hello'] }, rootfs: { type: 'layers', diff_ids: [computeDigest(tar)] } });
  const manifestBytes = encode({
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config: { mediaType: MediaTypes.ociConfig, digest: computeDigest(config), size: config.length },
    layers: [{ mediaType: MediaTypes.ociLayerGzip, digest: computeDigest(layer), size: layer.length }],
  });
  const manifest: StoredManifest = { mediaType: MediaTypes.ociManifest, digest: computeDigest(manifestBytes), bytes: manifestBytes };
  return { layer: { digest: computeDigest(layer), bytes: layer }, config: { digest: computeDigest(config), bytes: config }, manifest };
}

async function store(registry: Registry, repository: string, image: ReturnType<typeof tinyImage>, tag?: string): Promise<string> {
  await registry.pushBlob(repository, image.layer);
  await registry.pushBlob(repository, image.config);
  return registry.putManifest(repository, tag ?? image.manifest.digest, image.manifest);
}

async function skopeoInspect(ref: string): Promise<{ Digest: string; Architecture: string; Os: string; Layers: string[] }> {
  const { stdout } = await execa('skopeo', ['inspect', ref]);
  return JSON.parse(stdout) as { Digest: string; Architecture: string; Os: string; Layers: string[] };
}

async function skopeoCopy(from: string, to: string): Promise<void> {
  const dir = await tempDir();
  const policy = join(dir, 'policy.json');
  await writeFile(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  await execa('skopeo', ['--policy', policy, 'copy', '--all', from, to]);
}

describe('openOciLayout', () => {
  it('stores an image skopeo reads as oci:<dir>/<repository>:<tag>', async () => {
    const dir = await tempDir();
    const layout = openOciLayout(dir);
    const image = tinyImage('hello');
    expect(await store(layout, 'api', image, 'v1.0.0')).toBe(image.manifest.digest);

    const inspected = await skopeoInspect(`oci:${dir}/api:v1.0.0`);
    expect(inspected.Digest).toBe(image.manifest.digest);
    expect(inspected.Layers).toEqual([image.layer.digest]);
    expect(`${inspected.Os}/${inspected.Architecture}`).toBe('linux/amd64');

    expect(JSON.parse(await readFile(join(dir, 'api', 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    expect(await layout.resolve('api', 'v1.0.0')).toEqual({ mediaType: MediaTypes.ociManifest, digest: image.manifest.digest, size: image.manifest.bytes.length });
    const got = await layout.getManifest('api', 'v1.0.0');
    expect(got.digest).toBe(image.manifest.digest);
    expect(Buffer.from(got.bytes).equals(Buffer.from(image.manifest.bytes))).toBe(true);
    expect(await layout.getBlob('api', image.layer.digest)).toEqual(image.layer.bytes);
    // Temporary files never outlive a write.
    expect((await readdir(join(dir, 'api'))).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  });

  it('round-trips through skopeo copy in both directions with digests preserved', async () => {
    const dir = await tempDir();
    const layout = openOciLayout(dir);
    const image = tinyImage('round trip');
    await store(layout, 'api', image, 'v1');

    // skopeo reads ours and writes a layout of its own, which we then read.
    await skopeoCopy(`oci:${dir}/api:v1`, `oci:${dir}/copy:v1`);
    expect(await layout.listTags('copy')).toEqual(['v1']);
    expect((await layout.resolve('copy', 'v1'))?.digest).toBe(image.manifest.digest);
    expect((await layout.getManifest('copy', 'v1')).digest).toBe(image.manifest.digest);
    expect(await layout.getBlob('copy', image.layer.digest)).toEqual(image.layer.bytes);

    // And a tag we add to skopeo's layout keeps skopeo's own entry readable.
    await layout.putManifest('copy', 'v1-again', image.manifest);
    expect((await skopeoInspect(`oci:${dir}/copy:v1`)).Digest).toBe(image.manifest.digest);
    expect((await skopeoInspect(`oci:${dir}/copy:v1-again`)).Digest).toBe(image.manifest.digest);
  });

  it('keeps nested repositories in nested folders', async () => {
    const dir = await tempDir();
    const layout = openOciLayout(dir);
    const image = tinyImage('nested');
    await store(layout, 'acme/api', image, 'v2');
    expect((await skopeoInspect(`oci:${dir}/acme/api:v2`)).Digest).toBe(image.manifest.digest);
    expect(await layout.listTags('acme/api')).toEqual(['v2']);
    expect(await layout.listTags('acme')).toEqual([]);
  });

  it('answers absence with undefined from resolve and typed 404s from the getters', async () => {
    const dir = await tempDir();
    const layout = openOciLayout(dir);
    expect(await layout.resolve('api', 'v1')).toBeUndefined();
    expect(await layout.listTags('api')).toEqual([]);
    await expect(layout.getManifest('api', 'v1')).rejects.toMatchObject({ name: 'NotFoundError', kind: 'name', exitCode: 1 });

    const image = tinyImage('absent');
    await store(layout, 'api', image, 'v1');
    expect(await layout.resolve('api', 'v2')).toBeUndefined();
    expect(await layout.resolve('api', computeDigest(new Uint8Array([1])))).toBeUndefined();
    // A layer is a blob, not a manifest.
    expect(await layout.resolve('api', image.layer.digest)).toBeUndefined();
    await expect(layout.getManifest('api', 'v2')).rejects.toMatchObject({ kind: 'manifest' });
    const missingBlob = await layout.getBlob('api', computeDigest(new Uint8Array([2]))).catch((e: unknown) => e);
    expect(missingBlob).toBeInstanceOf(NotFoundError);
    expect(missingBlob).toMatchObject({ kind: 'blob', code: 'E_REGISTRY_NOT_FOUND' });
    expect(await layout.hasBlob('api', image.layer.digest)).toBe(true);
    expect(await layout.hasBlob('api', computeDigest(new Uint8Array([2])))).toBe(false);
  });

  it('resolves a manifest stored by digest without tagging it', async () => {
    const dir = await tempDir();
    const layout = openOciLayout(dir);
    const image = tinyImage('by digest');
    await store(layout, 'api', image);
    expect(await layout.resolve('api', image.manifest.digest)).toEqual({
      mediaType: MediaTypes.ociManifest,
      digest: image.manifest.digest,
      size: image.manifest.bytes.length,
    });
    expect(await layout.listTags('api')).toEqual([]);
  });

  it('verifies digests on read: a tampered manifest or layer is rejected', async () => {
    const dir = await tempDir();
    const layout = openOciLayout(dir);
    const image = tinyImage('tamper');
    await store(layout, 'api', image, 'v1');
    const blobFile = (digest: string): string => join(dir, 'api', 'blobs', 'sha256', digest.slice('sha256:'.length));

    // Same size, different bytes: only hashing catches it.
    const tampered = new TextDecoder().decode(image.manifest.bytes).replace('"schemaVersion":2', '"schemaVersion":3');
    await writeFile(blobFile(image.manifest.digest), tampered);
    const error = await layout.getManifest('api', 'v1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect(error).toMatchObject({ expected: image.manifest.digest, actual: computeDigest(new TextEncoder().encode(tampered)), exitCode: 1 });
    await expect(layout.getManifest('api', image.manifest.digest)).rejects.toBeInstanceOf(DigestMismatchError);
    // A different size is caught even by resolve.
    await writeFile(blobFile(image.manifest.digest), `${tampered} `);
    await expect(layout.resolve('api', 'v1')).rejects.toBeInstanceOf(DigestMismatchError);

    const layer = new Uint8Array(image.layer.bytes);
    layer[layer.length - 1] ^= 0xff;
    await writeFile(blobFile(image.layer.digest), layer);
    await expect(layout.getBlob('api', image.layer.digest)).rejects.toBeInstanceOf(DigestMismatchError);
  });

  it('refuses content whose digest is not the one claimed', async () => {
    const layout = openOciLayout(await tempDir());
    const image = tinyImage('claims');
    await expect(layout.pushBlob('api', { digest: image.config.digest, bytes: image.layer.bytes })).rejects.toBeInstanceOf(DigestMismatchError);
    await store(layout, 'api', image);
    const other = tinyImage('other');
    await expect(layout.putManifest('api', image.manifest.digest, other.manifest)).rejects.toBeInstanceOf(DigestMismatchError);
  });

  it('refuses a manifest before every blob it references is stored', async () => {
    const dir = await tempDir();
    const layout = openOciLayout(dir);
    const image = tinyImage('order');
    await layout.pushBlob('api', image.config);
    const error = await layout.putManifest('api', 'v1', image.manifest).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OciLayoutError);
    expect(error).toMatchObject({ code: 'E_OCI_LAYOUT_BLOB_UNKNOWN', exitCode: 1 });
    expect((error as Error).message).toContain(image.layer.digest);
    expect(await layout.listTags('api')).toEqual([]);
    expect(await layout.resolve('api', image.manifest.digest)).toBeUndefined();
  });

  it('refuses a manifest whose mediaType field contradicts how it is stored', async () => {
    const layout = openOciLayout(await tempDir());
    const image = tinyImage('media type');
    await store(layout, 'api', image);
    await expect(
      layout.putManifest('api', 'v1', { mediaType: MediaTypes.dockerManifest, bytes: image.manifest.bytes }),
    ).rejects.toMatchObject({ code: 'E_OCI_LAYOUT_MANIFEST_INVALID', exitCode: 2 });
  });

  it('keeps one index entry per tag, the latest write winning', async () => {
    const dir = await tempDir();
    const layout = openOciLayout(dir);
    const a = tinyImage('a');
    const b = tinyImage('b');
    await store(layout, 'api', a, 'edge');
    await store(layout, 'api', b, 'edge');
    await store(layout, 'api', b, 'v1');
    expect((await layout.resolve('api', 'edge'))?.digest).toBe(b.manifest.digest);
    const index = JSON.parse(await readFile(join(dir, 'api', 'index.json'), 'utf8')) as { manifests: unknown[] };
    expect(index.manifests).toHaveLength(2);
    expect(await layout.listTags('api')).toEqual(['edge', 'v1']);
  });

  it('loses no tag when writers race, in one process or several', async () => {
    const dir = await tempDir();
    const image = tinyImage('race');
    await store(openOciLayout(dir), 'api', image);
    // Two independent stores on the same folder: only the lock file serializes them.
    const a = openOciLayout(dir);
    const b = openOciLayout(dir);
    const tags = Array.from({ length: 40 }, (_, i) => `t${i}`);
    await Promise.all(tags.map((tag, i) => (i % 2 === 0 ? a : b).putManifest('api', tag, image.manifest)));

    const script = [
      `import { openOciLayout } from ${JSON.stringify(join(here, 'oci-layout.ts'))};`,
      `const layout = openOciLayout(process.argv[1]);`,
      `const bytes = new Uint8Array(Buffer.from(process.argv[2], 'base64'));`,
      `await Promise.all(Array.from({ length: 10 }, (_, i) => layout.putManifest('api', 'p' + process.argv[3] + '-' + i, { mediaType: '${MediaTypes.ociManifest}', bytes })));`,
    ].join('\n');
    const manifest64 = Buffer.from(image.manifest.bytes).toString('base64');
    await Promise.all(
      [1, 2, 3, 4].map((n) =>
        execa('node', ['--conditions=@slipway/source', '--import', 'tsx', '--input-type=module', '-e', script, dir, manifest64, String(n)]),
      ),
    );

    const expected = [...tags, ...[1, 2, 3, 4].flatMap((n) => Array.from({ length: 10 }, (_, i) => `p${n}-${i}`))].sort();
    expect(await openOciLayout(dir).listTags('api')).toEqual(expected);
    expect((await readdir(join(dir, 'api'))).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  });

  it('breaks a lock left by a dead process and reports one held by a live one', async () => {
    const dir = await tempDir();
    const layout = openOciLayout(dir, { lockAttempts: 3 });
    const image = tinyImage('locks');
    await store(layout, 'api', image, 'v0');
    const lockFile = join(dir, 'api', 'index.json.lock');

    const dead = execa('node', ['-e', '']);
    await dead;
    await writeFile(lockFile, `${hostname()} ${dead.pid}\n`);
    await layout.putManifest('api', 'v1', image.manifest);
    expect(await layout.listTags('api')).toEqual(['v0', 'v1']);

    await writeFile(lockFile, `${hostname()} ${process.pid}\n`);
    const error = await layout.putManifest('api', 'v2', image.manifest).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'OciLayoutError', code: 'E_OCI_LAYOUT_LOCKED', exitCode: 1 });
    expect((error as Error).message).toContain(lockFile);
    expect(await layout.listTags('api')).toEqual(['v0', 'v1']);
  });

  it.each([
    ['an upper-case repository', 'API', 'v1'],
    ['a path-escaping repository', '../api', 'v1'],
    ['a repository nested under a layout folder name', 'api/blobs', 'v1'],
    ['a bad tag', 'api', '-v1'],
    ['a non-sha256 digest', 'api', 'md5:abc'],
  ])('refuses %s as bad input', async (_what, repository, reference) => {
    const layout = openOciLayout(await tempDir());
    await expect(layout.resolve(repository, reference)).rejects.toMatchObject({ code: 'E_OCI_LAYOUT_INVALID_NAME', exitCode: 2 });
  });

  it('reports a corrupt index.json as an operational error', async () => {
    const dir = await tempDir();
    const layout = openOciLayout(dir);
    await store(layout, 'api', tinyImage('corrupt'), 'v1');
    await writeFile(join(dir, 'api', 'index.json'), '{"schemaVersion":2');
    await expect(layout.listTags('api')).rejects.toMatchObject({ code: 'E_OCI_LAYOUT_CORRUPT', exitCode: 1 });
  });
});
