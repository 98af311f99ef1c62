import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestImage, makeTestIndex, makeTestMultiPlatform, type RegistryPeer, type TestImage } from '@slipway/testing';
import { execa } from 'execa';
import { describe, expect, it, onTestFinished } from 'vitest';
import { clientFor, registryPeer, seedWithSkopeo, skopeoDigest, skopeoPullAll, skopeoRaw, text } from '../test/peers.js';
import { copiedDigest, copyImage, guardTag, ImmutableTagError, MediaTypes, openOciLayout, type Registry } from './index.js';

describe('copyImage', () => {
  it('copies a two-platform index within a repository in at most 3 requests, digest preserved', async () => {
    const peer = await registryPeer();
    const index = makeTestMultiPlatform();
    await seedWithSkopeo(peer, index, 'acme/api:1.4.0-staging.3');
    const { client, events } = clientFor(peer);
    peer.clearRequests();
    const result = await copyImage({ from: { registry: client, repository: 'acme/api', reference: '1.4.0-staging.3' }, to: { repository: 'acme/api', tags: ['1.4.0', 'latest'] } });
    expect(peer.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'GET /v2/acme/api/manifests/1.4.0-staging.3 200',
      'PUT /v2/acme/api/manifests/1.4.0 201',
      'PUT /v2/acme/api/manifests/latest 201',
    ]);
    expect(events).toHaveLength(3);
    expect(result).toMatchObject({ digest: index.digest, tagged: ['acme/api:1.4.0', 'acme/api:latest'], manifests: 0 });
    for (const tag of ['1.4.0', 'latest']) expect(await skopeoDigest(peer, `acme/api:${tag}`)).toBe(index.digest);
  });

  it('copies a two-platform index across repositories by mounting: no blob bytes uploaded, every platform pullable', async () => {
    const peer = await registryPeer();
    const index = makeTestMultiPlatform();
    await seedWithSkopeo(peer, index, 'staging/api:1.4.0-staging.3');
    const { client } = clientFor(peer);
    peer.clearRequests();
    const result = await copyImage({
      from: { registry: client, repository: 'staging/api', reference: '1.4.0-staging.3' },
      to: { repository: 'prod/api', tags: ['1.4.0'] },
    });
    expect(result).toMatchObject({ digest: index.digest, manifests: 2, blobs: { mounted: 4, uploaded: 0, present: 0, uploadedBytes: 0 } });
    const uploads = peer.requests.filter((r) => r.path.includes('/blobs/uploads/'));
    expect(uploads.every((r) => r.method === 'POST' && r.status === 201 && r.requestBytes === 0)).toBe(true);
    expect(peer.requests.filter((r) => r.method === 'PATCH' || (r.method === 'PUT' && r.path.includes('/blobs/')))).toEqual([]);
    // Children land before the index that names them.
    const puts = peer.requests.filter((r) => r.method === 'PUT').map((r) => r.path);
    expect(puts).toEqual([...index.images.map((i) => `/v2/prod/api/manifests/${i.digest}`), '/v2/prod/api/manifests/1.4.0']);
    expect(await skopeoRaw(peer, 'prod/api:1.4.0')).toBe(text(index.bytes));
    await skopeoPullAll(peer, 'prod/api:1.4.0');
  });

  it('copies between two registries by streaming blobs, skipping those already there', async () => {
    const source = await registryPeer();
    const target = await registryPeer();
    const index = makeTestMultiPlatform();
    await seedWithSkopeo(source, index, 'acme/api:v1');
    const shared = index.images[0] as (typeof index.images)[0];
    await clientFor(target).client.pushBlob('acme/api', shared.config);
    const result = await copyImage({
      from: { registry: clientFor(source).client, repository: 'acme/api', reference: 'v1' },
      to: { registry: clientFor(target).client, repository: 'acme/api', tags: ['v1', 'v1.0'] },
    });
    expect(result.blobs).toMatchObject({ uploaded: 3, present: 1, mounted: 0 });
    expect(await skopeoDigest(target, 'acme/api:v1.0')).toBe(index.digest);
    await skopeoPullAll(target, 'acme/api:v1');
  });

  it('copies a two-platform index across registries in the fewest requests the spec allows, fewer than skopeo copy --all', async () => {
    const source = await registryPeer();
    const index = makeTestIndex([makeTestImage({ architecture: 'amd64', padBytes: 512 * 1024 }), makeTestImage({ architecture: 'arm64', padBytes: 512 * 1024 })]);
    await seedWithSkopeo(source, index, 'acme/api:v1');
    const blobs = index.images.flatMap((image) => [image.config, ...image.layers]);
    // What the registries' front doors counted, by kind of request.
    const kinds = (peer: RegistryPeer) =>
      peer.requests.map((r) => `${r.method} ${r.path.includes('/blobs/uploads/') ? 'upload' : r.path.includes('/blobs/') ? 'blob' : r.path.includes('/manifests/') ? 'manifest' : r.path}`).sort();
    const times = (n: number, kind: string) => Array.from({ length: n }, () => kind);

    const target = await registryPeer();
    source.clearRequests();
    const result = await copyImage({
      from: { registry: clientFor(source).client, repository: 'acme/api', reference: 'v1' },
      to: { registry: clientFor(target).client, repository: 'acme/api', tags: ['v1'] },
    });
    expect(result.blobs).toEqual({ mounted: 0, uploaded: blobs.length, present: 0, uploadedBytes: blobs.reduce((sum, b) => sum + b.size, 0) });
    // The index and each child read once, each blob downloaded once.
    expect(kinds(source)).toEqual([...times(blobs.length, 'GET blob'), ...times(3, 'GET manifest')]);
    // Per blob: is it there, a session, one PUT with the whole blob streamed; then each child and the tag.
    expect(kinds(target)).toEqual([...times(blobs.length, 'HEAD blob'), ...times(blobs.length, 'POST upload'), ...times(3, 'PUT manifest'), ...times(blobs.length, 'PUT upload')]);
    const slipwayRequests = source.requests.length + target.requests.length;
    expect(slipwayRequests).toBe(3 + 4 * blobs.length + 3);

    // skopeo, counted the same way, into a registry of its own.
    const witness = await registryPeer();
    source.clearRequests();
    await execa('skopeo', ['copy', '--all', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${source.host}/acme/api:v1`, `docker://${witness.host}/acme/api:v1`]);
    const skopeoRequests = source.requests.length + witness.requests.length;
    expect(slipwayRequests).toBeLessThan(skopeoRequests);
    for (const peer of [target, witness]) {
      expect(await skopeoDigest(peer, 'acme/api:v1')).toBe(index.digest);
      await skopeoPullAll(peer, 'acme/api:v1');
    }
  });

  it('refuses to move an existing tag, writes nothing, and leaves tags already at the digest alone', async () => {
    const peer = await registryPeer();
    const released = makeTestImage();
    const candidate = makeTestImage();
    await seedWithSkopeo(peer, released, 'acme/api:v1.0.0');
    await seedWithSkopeo(peer, candidate, 'acme/api:rc');
    const { client } = clientFor(peer);
    peer.clearRequests();
    const refused = await copyImage({
      from: { registry: client, repository: 'acme/api', reference: 'rc' },
      to: { repository: 'acme/api', tags: ['v1.0.1', 'v1.0.0'] },
      immutable: true,
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ImmutableTagError);
    expect(refused).toMatchObject({ code: 'E_IMMUTABLE_TAG', exitCode: 3, tag: 'v1.0.0', existing: released.digest, wanted: candidate.digest });
    expect(peer.requests.filter((r) => r.method === 'PUT')).toEqual([]);
    expect(await skopeoDigest(peer, 'acme/api:v1.0.0')).toBe(released.digest);

    const rerun = await copyImage({ from: { registry: client, repository: 'acme/api', reference: 'v1.0.0' }, to: { repository: 'acme/api', tags: ['v1.0.0', 'v1'] }, immutable: true });
    expect(rerun).toMatchObject({ unchanged: ['acme/api:v1.0.0'], tagged: ['acme/api:v1'] });
  });
});

describe('copyImage heals and converts', () => {
  it('repairs an index whose platform manifest a registry cleanup deleted, instead of calling the copy unchanged', async () => {
    const source = await registryPeer();
    const target = await registryPeer();
    const index = makeTestMultiPlatform();
    await seedWithSkopeo(source, index, 'acme/api:v1');
    const copy = () =>
      copyImage({
        from: { registry: clientFor(source).client, repository: 'acme/api', reference: 'v1' },
        to: { registry: clientFor(target).client, repository: 'acme/api', tags: ['v1'] },
        immutable: true,
      });
    await copy();
    const child = index.images[1] as TestImage;
    // Distribution deletes a manifest by digest when storage.delete is enabled (the peer's config).
    const deleted = await fetch(`http://${target.host}/v2/acme/api/manifests/${child.digest}`, { method: 'DELETE' });
    expect(deleted.status).toBe(202);
    await expect(skopeoPullAll(target, 'acme/api:v1')).rejects.toThrow();

    const again = await copy();
    expect(again).toMatchObject({ digest: index.digest, unchanged: [], repaired: ['acme/api:v1'], manifests: 1 });
    await skopeoPullAll(target, 'acme/api:v1');
    expect(await copy()).toMatchObject({ unchanged: ['acme/api:v1'], repaired: [], manifests: 0 });
  });

  it('copies Docker schema 2 images (a manifest list and a manifest) into an OCI layout that skopeo and umoci read', async () => {
    const peer = await registryPeer();
    const { client } = clientFor(peer);
    const images = [makeTestImage({ architecture: 'amd64' }), makeTestImage({ architecture: 'arm64' })];
    const dockerImages = await Promise.all(images.map((image) => pushDockerImage(client, image)));
    const list = await putJson(client, 'v1', MediaTypes.dockerManifestList, {
      schemaVersion: 2,
      mediaType: MediaTypes.dockerManifestList,
      manifests: dockerImages.map((m, i) => ({ mediaType: MediaTypes.dockerManifest, digest: m.digest, size: m.size, platform: images[i]?.platform })),
    });
    const single = dockerImages[1] as { digest: string };
    await client.putManifest('acme/api', 'single', await client.getManifest('acme/api', single.digest));

    const dir = await mkdtemp(join(tmpdir(), 'slipway-docker-layout-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const layout = openOciLayout(dir);
    const copied = await copyImage({ from: { registry: client, repository: 'acme/api', reference: 'v1' }, to: { registry: layout, repository: 'api', tags: ['v1'] }, immutable: true });
    const converted = copied.converted['api'];
    expect(converted).toMatch(/^sha256:/);
    expect(converted).not.toBe(list.digest);
    expect(await copiedDigest({ registry: client, repository: 'acme/api', reference: 'v1' }, layout)).toBe(converted);
    expect(await copiedDigest({ registry: client, repository: 'acme/api', reference: 'v1' }, client)).toBe(list.digest);
    await copyImage({ from: { registry: client, repository: 'acme/api', reference: 'single' }, to: { registry: layout, repository: 'api', tags: ['single'] } });

    // skopeo: the list is an OCI index there, every platform copies out in full.
    const raw = (await execa('skopeo', ['inspect', '--raw', `oci:${dir}/api:v1`])).stdout;
    expect(JSON.parse(raw)).toMatchObject({ mediaType: MediaTypes.ociIndex });
    expect(`sha256:${createHash('sha256').update(raw).digest('hex')}`).toBe(converted);
    const out = await mkdtemp(join(tmpdir(), 'slipway-docker-out-'));
    onTestFinished(() => rm(out, { recursive: true, force: true }));
    await execa('skopeo', ['copy', '--all', `oci:${dir}/api:v1`, `oci:${out}:all`]);
    // umoci reads the single image (it cannot pick one platform out of an index of two, any index).
    const bundle = join(out, 'bundle');
    await execa('umoci', ['unpack', '--rootless', '--image', `${dir}/api:single`, bundle]);
    expect(JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8'))).toHaveProperty('process');
    expect((await execa('umoci', ['ls', '--layout', `${dir}/api`])).stdout.split('\n').sort()).toEqual(['single', 'v1']);

    // Copying again sees the converted digest under the tag: unchanged, nothing refused.
    expect(await copyImage({ from: { registry: client, repository: 'acme/api', reference: 'v1' }, to: { registry: layout, repository: 'api', tags: ['v1'] }, immutable: true })).toMatchObject({
      unchanged: ['api:v1'],
      repaired: [],
    });
  });
});

async function putJson(registry: Registry, reference: string, mediaType: string, value: unknown): Promise<{ digest: string; size: number }> {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  const digest = await registry.putManifest('acme/api', reference, { mediaType, bytes });
  return { digest, size: bytes.length };
}

/** The test image's blobs under a Docker schema 2 manifest, pushed by digest. */
async function pushDockerImage(registry: Registry, image: TestImage): Promise<{ digest: string; size: number }> {
  for (const blob of [image.config, ...image.layers]) await registry.pushBlob('acme/api', blob);
  const digestOf = (value: unknown) => `sha256:${createHash('sha256').update(JSON.stringify(value)).digest('hex')}`;
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.dockerManifest,
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: image.config.digest, size: image.config.size },
    layers: image.layers.map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: l.digest, size: l.size })),
  };
  return putJson(registry, digestOf(manifest), MediaTypes.dockerManifest, manifest);
}

describe('guardTag', () => {
  it('says absent, same, or refuses', async () => {
    const peer = await registryPeer();
    const image = makeTestImage();
    await seedWithSkopeo(peer, image, 'acme/api:v1');
    const { client } = clientFor(peer);
    expect(await guardTag(client, 'acme/api', 'v2', image.digest)).toBe('absent');
    expect(await guardTag(client, 'acme/api', 'v1', image.digest)).toBe('same');
    await expect(guardTag(client, 'acme/api', 'v1', makeTestImage().digest)).rejects.toMatchObject({ name: 'ImmutableTagError', host: peer.host });
  });

  it('does not take 403 for absent', async () => {
    const peer = await registryPeer();
    const { client } = clientFor(peer);
    peer.injectFault({ method: 'HEAD', path: '/manifests/v1', status: 403, times: 5 });
    await expect(guardTag(client, 'acme/api', 'v1', makeTestImage().digest)).rejects.toMatchObject({ name: 'DeniedError', status: 403, exitCode: 1 });
  });
});
