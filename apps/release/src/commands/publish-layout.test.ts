import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTestImage, writeLayoutIndex, type TestImage } from '@slipway/testing';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { releaseWorkspace } from '../../test/fixtures.js';
import { runCli } from '../../test/run-cli.js';

// A prebuilt image with Docker schema 2 media types, published into an OCI image layout. The
// layout holds only OCI media types (skopeo and umoci read nothing else), so the copy converts it:
// same blobs, new manifests, another digest. Publish must verify and record the digest the layout
// holds, never the source's.

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

const sha256 = (bytes: Uint8Array | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/**
 * Writes a Docker schema 2 image (or a manifest list of two) under `tag` in the layout folder
 * `dir`, file by file, the way Slipway's image copy stored Docker images before it converted
 * them: the prebuilt a CI job left there.
 */
async function writeDockerPrebuilt(dir: string, tag: string, kind: 'manifest' | 'list'): Promise<string> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const put = async (bytes: Uint8Array | string) => {
    const digest = sha256(bytes);
    await writeFile(join(blobs, digest.slice('sha256:'.length)), bytes);
    return { digest, size: Buffer.byteLength(bytes) };
  };
  const dockerManifest = async (image: TestImage) => {
    for (const blob of [image.config, ...image.layers]) await put(blob.bytes);
    const text = JSON.stringify({
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: image.config.digest, size: image.config.size },
      layers: image.layers.map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: l.digest, size: l.size })),
    });
    return { ...(await put(text)), platform: image.platform };
  };
  let top: { digest: string; size: number; mediaType: string };
  if (kind === 'manifest') {
    top = { ...(await dockerManifest(makeTestImage())), mediaType: DOCKER_MANIFEST };
  } else {
    const children = [await dockerManifest(makeTestImage({ architecture: 'amd64' })), await dockerManifest(makeTestImage({ architecture: 'arm64' }))];
    const text = JSON.stringify({
      schemaVersion: 2,
      mediaType: DOCKER_LIST,
      manifests: children.map((c) => ({ mediaType: DOCKER_MANIFEST, digest: c.digest, size: c.size, platform: c.platform })),
    });
    top = { ...(await put(text)), mediaType: DOCKER_LIST };
  }
  await writeLayoutIndex(dir, top, tag);
  return top.digest;
}

/** What skopeo reads under `tag` in the layout: the digest of the manifest bytes it gets. */
async function skopeoLayoutDigest(dir: string, tag: string): Promise<{ digest: string; mediaType: string }> {
  const raw = (await execa('skopeo', ['inspect', '--raw', `oci:${dir}:${tag}`])).stdout;
  return { digest: sha256(raw), mediaType: (JSON.parse(raw) as { mediaType: string }).mediaType };
}

describe('publish of a Docker schema 2 prebuilt into an OCI image layout', () => {
  it.each(['manifest', 'list'] as const)(
    'a Docker %s is converted, verified and recorded under the digest the layout holds; a re-run is unchanged',
    async (kind) => {
      const ws = await releaseWorkspace();
      const layout = join(ws.repo.root, 'images');
      await ws.repo.commit('chore: prebuilt into a layout', {
        'services.json': JSON.stringify({
          registry: `oci-layout:${layout}`,
          services: { api: { root: 'apps/api', build: { type: 'prebuilt', from: '{image}:sha-{sha7}' } } },
        }),
      });
      await ws.repo.push('main');
      const commit = await ws.tagRelease('api/v1.0.0');
      const sha7 = `sha-${commit.slice(0, 7)}`;
      const source = await writeDockerPrebuilt(join(layout, 'api'), sha7, kind);

      const manifestPath = join(ws.repo.root, 'manifest.json');
      const run = await runCli(['publish', 'api/v1.0.0', '--manifest', manifestPath, '--json'], { cwd: ws.repo.dir, env: ws.env });
      expect(run.exitCode, run.stderr + run.stdout).toBe(0);
      const held = await skopeoLayoutDigest(join(layout, 'api'), 'v1.0.0');
      expect(held.mediaType).toBe(kind === 'list' ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json');
      expect(held.digest).not.toBe(source);
      const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { digest: string; tags: string[] };
      expect(manifest).toMatchObject({ digest: held.digest, tags: ['v1.0.0'] });
      expect(JSON.parse(run.stdout).artifacts[0]).toMatchObject({ digest: held.digest, action: 'pushed' });
      if (kind === 'list') {
        // Every platform of the converted index is there: skopeo copies all of them out.
        await execa('skopeo', ['copy', '--all', `oci:${join(layout, 'api')}:v1.0.0`, `oci:${join(ws.repo.root, 'out')}:all`]);
      }

      const again = await runCli(['publish', 'api/v1.0.0', '--manifest', manifestPath, '--json'], { cwd: ws.repo.dir, env: ws.env });
      expect(again.exitCode, again.stderr + again.stdout).toBe(0);
      expect(JSON.parse(again.stdout).artifacts[0]).toMatchObject({ digest: held.digest, action: 'unchanged' });
      expect(JSON.parse(await readFile(manifestPath, 'utf8'))).toEqual(manifest);

      const dry = await runCli(['publish', 'api/v1.0.0', '--dry-run', '--json'], { cwd: ws.repo.dir, env: ws.env });
      expect(dry.exitCode, dry.stderr).toBe(0);
      expect(JSON.parse(dry.stdout).artifacts[0]).toMatchObject({ digest: held.digest });
    },
  );
});
