import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { makeTestImage, makeTestIndex } from '@slipway/testing';
import { describe, expect, it } from 'vitest';
import { clientFor, registryPeer, skopeoDigest, skopeoPullAll } from '../test/peers.js';

// A cross-registry copy in a process of its own (its peak RSS is its own): the blobs stream from
// socket to socket through node:http, never held whole, and fetch (Node's bundled undici), whose
// first request alone costs ~40 MiB of RSS, is never called. bench/registry-copy.bench.ts measures the
// figures beside skopeo; this keeps the shape.

const MiB = 1024 * 1024;
const child = fileURLToPath(new URL('../test/copy-memory-child.ts', import.meta.url));

describe('memory of a cross-registry copy', () => {
  it('streams a two-platform index of 2 × 96 MiB layers without holding a layer, and never calls fetch', { timeout: 180_000 }, async () => {
    const source = await registryPeer();
    const target = await registryPeer();
    const index = makeTestIndex([makeTestImage({ architecture: 'amd64', padBytes: 96 * MiB }), makeTestImage({ architecture: 'arm64', padBytes: 96 * MiB })]);
    const { client } = clientFor(source);
    for (const image of index.images) {
      for (const blob of [image.config, ...image.layers]) await client.pushBlob('staging/api', blob);
      await client.putManifest('staging/api', image.digest, image);
    }
    await client.putManifest('staging/api', '1', index);

    const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=@slipway/source', '--import', 'tsx', child], {
      env: { ...process.env, SOURCE_HOST: source.host, TARGET_HOST: target.host },
      timeout: 150_000,
    });
    const { digest, uploadedBytes, fetchCalls, peakKiB } = JSON.parse(stdout) as { digest: string; uploadedBytes: number; fetchCalls: number; peakKiB: number };

    expect(digest).toBe(index.digest);
    expect(uploadedBytes).toBeGreaterThan(192 * MiB);
    expect(await skopeoDigest(target, 'prod/api:1')).toBe(index.digest);
    await skopeoPullAll(target, 'prod/api:1');
    expect(fetchCalls, 'fetch was called').toBe(0);
    // Holding one layer (96 MiB) on top of the process's own ~100 MiB (tsx and the TypeScript sources) would pass this.
    expect(peakKiB * 1024, `peak RSS ${Math.round(peakKiB / 1024)} MiB`).toBeLessThan(200 * MiB);
  });
});
