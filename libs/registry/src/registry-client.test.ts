import { makeTestImage, makeTestMultiPlatform } from '@slipway/testing';
import { describe, expect, it } from 'vitest';
import { clientFor, registryPeer, seedWithSkopeo, skopeoDigest, skopeoPullAll, skopeoRaw, text } from '../test/peers.js';
import { computeDigest, isNotFound, NotFoundError, type RegistryClient } from './index.js';

async function pushImage(client: RegistryClient, repository: string, image: ReturnType<typeof makeTestImage>, tag: string): Promise<string> {
  for (const blob of [image.config, ...image.layers]) await client.pushBlob(repository, blob);
  return client.putManifest(repository, tag, image);
}

describe('createRegistryClient against Distribution (no auth)', () => {
  it('pushes a single image that skopeo then reads byte for byte and pulls completely', async () => {
    const peer = await registryPeer();
    const { client } = clientFor(peer);
    const image = makeTestImage();
    expect(await pushImage(client, 'acme/api', image, 'v1.0.0')).toBe(image.digest);
    expect(await skopeoRaw(peer, 'acme/api:v1.0.0')).toBe(text(image.bytes));
    await skopeoPullAll(peer, `acme/api@${image.digest}`);
  });

  it('skips blobs already present', async () => {
    const peer = await registryPeer();
    const { client } = clientFor(peer);
    const image = makeTestImage();
    await pushImage(client, 'acme/api', image, 'v1');
    peer.clearRequests();
    expect(await client.uploadBlob('acme/api', image.layers[0] as (typeof image.layers)[0])).toBe('present');
    expect(peer.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['HEAD 200']);
  });

  it('uploads a large blob in chunks (PATCH) and the registry stores the right content', async () => {
    const peer = await registryPeer();
    const { client } = clientFor(peer, { uploadMode: 'chunks', monolithicMaxBytes: 64 * 1024, chunkBytes: 50 * 1024 });
    const image = makeTestImage({ padBytes: 200 * 1024 });
    const layer = image.layers[0] as (typeof image.layers)[0];
    expect(await client.uploadBlob('acme/big', layer)).toBe('uploaded');
    const patches = peer.requests.filter((r) => r.method === 'PATCH');
    expect(patches.length).toBe(Math.ceil(layer.size / (50 * 1024)));
    expect(patches.reduce((sum, r) => sum + r.requestBytes, 0)).toBe(layer.size);
    await client.pushBlob('acme/big', image.config);
    await client.putManifest('acme/big', 'v1', image);
    await skopeoPullAll(peer, 'acme/big:v1');
    expect(await client.getBlob('acme/big', layer.digest)).toEqual(layer.bytes);
  });

  it('refuses to upload bytes that do not match the digest given', async () => {
    const peer = await registryPeer();
    const { client } = clientFor(peer);
    const image = makeTestImage();
    await expect(client.pushBlob('acme/api', { digest: image.config.digest, bytes: new Uint8Array([1, 2, 3]) })).rejects.toMatchObject({
      name: 'DigestMismatchError',
      code: 'E_DIGEST_MISMATCH',
    });
    expect(peer.requests).toEqual([]);
  });

  it('resolves tags and digests with one HEAD, and says undefined only for absent', async () => {
    const peer = await registryPeer();
    const index = makeTestMultiPlatform();
    await seedWithSkopeo(peer, index, 'acme/api:v2');
    const { client } = clientFor(peer);
    peer.clearRequests();
    expect(await client.resolve('acme/api', 'v2')).toEqual({ mediaType: index.mediaType, digest: index.digest, size: index.bytes.length });
    expect(peer.requests.map((r) => r.method)).toEqual(['HEAD']);
    expect(await client.resolve('acme/api', index.digest)).toMatchObject({ digest: index.digest });
    expect(await client.resolve('acme/api', 'nope')).toBeUndefined();
    expect(await client.resolve('acme/never-pushed', 'v1')).toBeUndefined();
  });

  it('falls back to GET when HEAD carries no Docker-Content-Digest, and still verifies', async () => {
    const peer = await registryPeer();
    const image = makeTestImage();
    await seedWithSkopeo(peer, image, 'acme/api:v1');
    const { client } = clientFor(peer);
    peer.injectFault({ method: 'HEAD', path: '/manifests/v1', status: 200, headers: { 'Content-Type': image.mediaType } });
    peer.clearRequests();
    expect(await client.resolve('acme/api', 'v1')).toEqual({ mediaType: image.mediaType, digest: image.digest, size: image.bytes.length });
    expect(peer.requests.map((r) => r.method)).toEqual(['HEAD', 'GET']);
  });

  it('gets manifests verified against the digest, and says what is missing', async () => {
    const peer = await registryPeer();
    const index = makeTestMultiPlatform();
    await seedWithSkopeo(peer, index, 'acme/api:v2');
    const { client } = clientFor(peer);
    const byTag = await client.getManifest('acme/api', 'v2');
    expect(byTag).toEqual({ mediaType: index.mediaType, digest: index.digest, bytes: index.bytes });
    const child = index.images[1] as (typeof index.images)[1];
    expect(text((await client.getManifest('acme/api', child.digest)).bytes)).toBe(text(child.bytes));

    const missingTag = await client.getManifest('acme/api', 'v9').catch((e: unknown) => e);
    expect(missingTag).toBeInstanceOf(NotFoundError);
    expect(missingTag).toMatchObject({ kind: 'manifest', ociCode: 'MANIFEST_UNKNOWN', exitCode: 1 });
    // Distribution answers MANIFEST_UNKNOWN here even for a repository it never saw; only the
    // tag list says NAME_UNKNOWN, which is why listTags is the first-publish check.
    const missingRepo = await client.getManifest('acme/other', 'v1').catch((e: unknown) => e);
    expect(isNotFound(missingRepo)).toBe(true);
  });

  it('lists 150+ tags across pages of 50, in order, matching skopeo', async () => {
    const peer = await registryPeer();
    const image = makeTestImage();
    const { client } = clientFor(peer, { tagPageSize: 50 });
    await pushImage(client, 'acme/api', image, 'v0');
    const tags = ['v0', ...Array.from({ length: 154 }, (_, i) => `1.0.0-staging.${i + 1}`)];
    for (const tag of tags.slice(1)) await client.putManifest('acme/api', tag, image);
    peer.clearRequests();
    const listed = await client.listTags('acme/api');
    expect(listed).toEqual([...tags].sort());
    expect(peer.requests.map((r) => r.path)).toEqual([
      '/v2/acme/api/tags/list?n=50',
      expect.stringMatching(/last=.*n=50|n=50.*last=/),
      expect.stringMatching(/last=/),
      expect.stringMatching(/last=/),
    ]);
    const { execa } = await import('execa');
    const skopeo = await execa('skopeo', ['list-tags', '--tls-verify=false', `docker://${peer.host}/acme/api`]);
    expect([...(JSON.parse(skopeo.stdout) as { Tags: string[] }).Tags].sort()).toEqual(listed);
  });

  it('says NAME_UNKNOWN for tags of a repository that does not exist (a first publish)', async () => {
    const peer = await registryPeer();
    const { client } = clientFor(peer);
    await expect(client.listTags('acme/new')).rejects.toMatchObject({ name: 'NotFoundError', kind: 'name', status: 404 });
  });

  it('puts a manifest by digest, and refuses bytes that do not match that digest before sending', async () => {
    const peer = await registryPeer();
    const { client } = clientFor(peer);
    const image = makeTestImage();
    for (const blob of [image.config, ...image.layers]) await client.pushBlob('acme/api', blob);
    expect(await client.putManifest('acme/api', image.digest, image)).toBe(image.digest);
    expect(await skopeoDigest(peer, `acme/api@${image.digest}`)).toBe(image.digest);
    const other = makeTestImage();
    peer.clearRequests();
    await expect(client.putManifest('acme/api', image.digest, other)).rejects.toMatchObject({ code: 'E_DIGEST_MISMATCH', expected: image.digest, actual: other.digest });
    expect(peer.requests).toEqual([]);
  });

  it('mounts a blob across repositories without sending it, and reports a declined mount', async () => {
    const peer = await registryPeer();
    const { client } = clientFor(peer);
    const image = makeTestImage();
    await seedWithSkopeo(peer, image, 'acme/staging:v1');
    peer.clearRequests();
    const layer = image.layers[0] as (typeof image.layers)[0];
    expect(await client.mountBlob('acme/prod', layer.digest, 'acme/staging')).toBe(true);
    expect(peer.requests.map((r) => `${r.method} ${r.status} ${r.requestBytes}`)).toEqual(['POST 201 0']);
    expect(await client.hasBlob('acme/prod', layer.digest)).toBe(true);
    const unknown = computeDigest(new TextEncoder().encode('never pushed'));
    expect(await client.mountBlob('acme/prod', unknown, 'acme/staging')).toBe(false);
    // With bytes at hand, a declined mount falls back to uploading them.
    expect(await client.uploadBlob('acme/prod', image.config, { mountFrom: 'acme/elsewhere' })).toBe('uploaded');
    expect(await client.hasBlob('acme/prod', image.config.digest)).toBe(true);
  });
});
