import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildLayerImage } from './builders/layer.js';
import type { BuiltImage } from './builders/image.js';
import { computeDigest } from './digest.js';
import { ImmutableTagError } from './errors.js';
import { openOciLayout } from './oci-layout.js';
import { pushImage, type PushProgress } from './push-image.js';
import { MediaTypes } from './types.js';

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-push-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function build(content: string, architecture = 'amd64'): Promise<BuiltImage> {
  const src = join(await tempDir(), 'src');
  await mkdir(src);
  await writeFile(join(src, 'index.js'), content);
  return buildLayerImage({ from: 'scratch', dir: src, entrypoint: ['node', '/app/index.js'], platform: { architecture, os: 'linux' } });
}

async function skopeo(...args: string[]): Promise<string> {
  const dir = await tempDir();
  const policy = join(dir, 'policy.json');
  await writeFile(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  return (await execa('skopeo', ['--policy', policy, ...args])).stdout;
}

describe('pushImage', () => {
  it('pushes blobs, then the manifest, then the tags, and reports what it uploaded', async () => {
    const dir = await tempDir();
    const registry = openOciLayout(dir);
    const image = await build('console.log(1)');
    const progress: PushProgress[] = [];
    const result = await pushImage({ registry, repository: 'api', image, tags: ['v1.0.0', 'sha-1a2b3c4'], onProgress: (p) => progress.push(p) });

    const blobBytes = image.config.size + (image.layers[0]?.size ?? 0);
    expect(result).toEqual({
      digest: image.manifest.digest,
      tags: ['v1.0.0', 'sha-1a2b3c4'],
      tagsWritten: ['v1.0.0', 'sha-1a2b3c4'],
      pushed: { blobs: 2, bytes: blobBytes },
    });
    expect(progress.map((p) => p.digest).sort()).toEqual([image.config.digest, image.layers[0]?.digest].sort());
    expect(progress.at(-1)).toMatchObject({ pushedBytes: blobBytes, totalBytes: blobBytes });
    for (const tag of result.tags) {
      expect(await skopeo('inspect', '--format', '{{.Digest}}', `oci:${dir}/api:${tag}`)).toBe(image.manifest.digest);
    }
  });

  it('changes nothing when re-run with the same image', async () => {
    const dir = await tempDir();
    const registry = openOciLayout(dir);
    const image = await build('console.log(1)');
    await pushImage({ registry, repository: 'api', image, tags: ['v1.0.0'] });
    const index = await readFile(join(dir, 'api', 'index.json'));

    const again = await pushImage({ registry, repository: 'api', image, tags: ['v1.0.0'] });
    expect(again).toMatchObject({ digest: image.manifest.digest, tags: ['v1.0.0'], tagsWritten: [], pushed: { blobs: 0, bytes: 0 } });
    expect((await readFile(join(dir, 'api', 'index.json'))).equals(index)).toBe(true);
  });

  it('refuses to move a tag, before uploading anything, and leaves every tag where it was', async () => {
    const dir = await tempDir();
    const registry = openOciLayout(dir);
    const first = await build('console.log(1)');
    const second = await build('console.log(2)');
    await pushImage({ registry, repository: 'api', image: first, tags: ['v1.0.0'] });

    const error = await pushImage({ registry, repository: 'api', image: second, tags: ['v1.0.1', 'v1.0.0'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImmutableTagError);
    expect(error).toMatchObject({
      code: 'E_IMMUTABLE_TAG',
      exitCode: 3,
      host: `oci-layout:${dir}`,
      repository: 'api',
      tag: 'v1.0.0',
      existing: first.manifest.digest,
      wanted: second.manifest.digest,
    });
    expect((await registry.resolve('api', 'v1.0.0'))?.digest).toBe(first.manifest.digest);
    expect(await registry.listTags('api')).toEqual(['v1.0.0']);
    expect(await registry.hasBlob('api', second.layers[0]?.digest ?? '')).toBe(false);
  });

  it('pushes an index with its platform manifests first, readable by skopeo --all', async () => {
    const dir = await tempDir();
    const registry = openOciLayout(dir);
    const amd = await build('console.log("amd64")', 'amd64');
    const arm = await build('console.log("arm64")', 'arm64');
    const indexBytes = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaTypes.ociIndex,
        manifests: [amd, arm].map((child, i) => ({
          mediaType: child.manifest.mediaType,
          digest: child.manifest.digest,
          size: child.manifest.bytes.length,
          platform: { architecture: i === 0 ? 'amd64' : 'arm64', os: 'linux' },
        })),
      }),
    );
    const index = { manifest: { mediaType: MediaTypes.ociIndex, digest: computeDigest(indexBytes), bytes: indexBytes }, children: [amd, arm] };
    const result = await pushImage({ registry, repository: 'api', image: index, tags: ['v2.0.0'] });
    expect(result.pushed.blobs).toBe(4);

    const raw = JSON.parse(await skopeo('inspect', '--raw', `oci:${dir}/api:v2.0.0`)) as { manifests: { digest: string }[] };
    expect(raw.manifests.map((m) => m.digest)).toEqual([amd.manifest.digest, arm.manifest.digest]);
    await skopeo('copy', '--all', `oci:${dir}/api:v2.0.0`, `oci:${dir}/copy:v2.0.0`);
    expect((await registry.resolve('copy', 'v2.0.0'))?.digest).toBe(index.manifest.digest);
    expect((await registry.getManifest('copy', arm.manifest.digest)).digest).toBe(arm.manifest.digest);
  });
});
