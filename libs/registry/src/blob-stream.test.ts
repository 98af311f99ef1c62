import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { makeTestImage, startFaultProxy, writeTestLayout, type RegistryPeer, type TestImage } from '@slipway/testing';
import { execa } from 'execa';
import { describe, expect, it, onTestFinished } from 'vitest';
import { clientFor, registryPeer, seedWithSkopeo, serveForTest, skopeoDigest, skopeoPullAll } from '../test/peers.js';
import { copyImage, createRegistryClient, DigestMismatchError, openOciLayout, type BlobSource, type RequestEvent } from './index.js';

const MiB = 1024 * 1024;

let big: TestImage | undefined;
/** One image with a ~40 MiB layer (random, so gzip cannot shrink it), made once per file. */
function bigImage(): TestImage {
  big ??= makeTestImage({ padBytes: 40 * MiB });
  return big;
}

function layerOf(image: TestImage): TestImage['layers'][0] {
  return image.layers[0] as TestImage['layers'][0];
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-stream-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const hex = (digest: string) => digest.slice('sha256:'.length);

function patches(events: readonly RequestEvent[]): RequestEvent[] {
  return events.filter((e) => e.method === 'PATCH');
}

/** What the registry itself answers for a blob, asked directly (not through the client under test). */
async function blobStatus(peer: RegistryPeer, repository: string, digest: string): Promise<number> {
  return (await fetch(`${peer.url}/v2/${repository}/blobs/${digest}`, { method: 'HEAD' })).status;
}

/** A proxy in front of `upstream` that flips one byte of `digest`'s body on every GET: a source serving wrong bytes. */
async function tamperingProxy(upstream: RegistryPeer, digest: string, at: number): Promise<string> {
  const target = new URL(upstream.url);
  const { host } = await serveForTest((req: IncomingMessage, res: ServerResponse) => {
    const out = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      if (req.method !== 'GET' || !req.url?.includes(`/blobs/${digest}`) || up.statusCode !== 200) return void up.pipe(res);
      let seen = 0;
      const flip = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          const copy = Buffer.from(chunk);
          if (at >= seen && at < seen + copy.length) copy[at - seen] = (copy[at - seen] as number) ^ 0xff;
          seen += copy.length;
          done(null, copy);
        },
      });
      up.pipe(flip).pipe(res);
    });
    req.pipe(out);
  });
  return host;
}

/**
 * A registry serving `image` as acme/api:v1 whose layer download stops halfway until `gate` is
 * opened: a copy that waited for the whole layer before uploading would never finish.
 */
async function gatedSource(image: TestImage): Promise<{ host: string; open(): void; state: { opened: boolean; secondHalfSent: boolean } }> {
  const layer = layerOf(image);
  const state = { opened: false, secondHalfSent: false };
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const { host } = await serveForTest((req, res) => {
    const path = req.url ?? '';
    if (req.method === 'GET' && path === '/v2/acme/api/manifests/v1') {
      return void res.writeHead(200, { 'Content-Type': image.mediaType, 'Docker-Content-Digest': image.digest, 'Content-Length': String(image.bytes.length) }).end(image.bytes);
    }
    const blob = [image.config, layer].find((b) => path === `/v2/acme/api/blobs/${b.digest}`);
    if (req.method !== 'GET' || blob === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(blob.size) });
    if (blob !== layer) return void res.end(blob.bytes);
    const half = Math.floor(blob.size / 2);
    res.write(blob.bytes.subarray(0, half));
    void gate.then(() => {
      state.secondHalfSent = true;
      res.end(blob.bytes.subarray(half));
    });
  }, () => release());
  return {
    host,
    open: () => {
      state.opened = true;
      release();
    },
    state,
  };
}

describe('streaming blob copies', () => {
  it('copies a 40 MiB layer between two registries in one streamed PUT per blob, reading the source once', async () => {
    const source = await registryPeer();
    const target = await registryPeer();
    const image = bigImage();
    const layer = layerOf(image);
    await seedWithSkopeo(source, image, 'acme/api:v1');
    source.clearRequests();
    const to = clientFor(target);
    const result = await copyImage({
      from: { registry: clientFor(source).client, repository: 'acme/api', reference: 'v1' },
      to: { registry: to.client, repository: 'acme/api', tags: ['v1'] },
    });

    // Per blob: is it there, open a session, one PUT with the whole blob; then the manifest (as the registry's front door counted them).
    expect(target.requests.map((r) => r.method).sort()).toEqual(['HEAD', 'HEAD', 'POST', 'POST', 'PUT', 'PUT', 'PUT']);
    const put = target.requests.find((r) => r.method === 'PUT' && r.path.includes(`digest=sha256%3A${hex(layer.digest)}`));
    expect(put).toMatchObject({ status: 201, requestBytes: layer.size });
    expect(await skopeoDigest(target, 'acme/api:v1')).toBe(image.digest);
    await skopeoPullAll(target, 'acme/api:v1');
    expect(result.blobs).toEqual({ mounted: 0, uploaded: 2, present: 0, uploadedBytes: layer.size + image.config.size });
    expect(source.requests.filter((r) => r.method === 'GET' && r.path.includes(`/blobs/${layer.digest}`))).toHaveLength(1);
  });

  it('copies the same layer from an OCI layout to a registry and from a registry into a layout', async () => {
    const image = bigImage();
    const layer = layerOf(image);
    const sourceDir = await tempDir();
    await writeTestLayout(join(sourceDir, 'acme', 'api'), image, 'v1');
    const target = await registryPeer();
    const to = clientFor(target);

    const up = await copyImage({ from: { registry: openOciLayout(sourceDir), repository: 'acme/api', reference: 'v1' }, to: { registry: to.client, repository: 'acme/api', tags: ['v1'] } });
    expect(up.blobs).toMatchObject({ uploaded: 2, uploadedBytes: layer.size + image.config.size });
    expect(await skopeoDigest(target, 'acme/api:v1')).toBe(image.digest);
    await skopeoPullAll(target, 'acme/api:v1');
    expect(patches(to.events)).toEqual([]);
    expect(to.events.filter((e) => e.method === 'PUT' && e.url.includes('/blobs/uploads/')).map((e) => e.bytesSent).sort((a, b) => a - b)).toEqual([image.config.size, layer.size]);

    const targetDir = await tempDir();
    const down = await copyImage({ from: { registry: to.client, repository: 'acme/api', reference: 'v1' }, to: { registry: openOciLayout(targetDir), repository: 'mirror/api', tags: ['v1'] } });
    expect(down).toMatchObject({ digest: image.digest, tagged: ['mirror/api:v1'], blobs: { uploaded: 2, uploadedBytes: layer.size + image.config.size } });
    const blobs = join(targetDir, 'mirror', 'api', 'blobs', 'sha256');
    expect(sha256(await readFile(join(blobs, hex(layer.digest))))).toBe(layer.digest);
    const { stdout } = await execa('skopeo', ['inspect', `oci:${join(targetDir, 'mirror', 'api')}:v1`]);
    expect(JSON.parse(stdout)).toMatchObject({ Digest: image.digest, Layers: [layer.digest] });
  });

  it('refuses a source that serves wrong bytes: DigestMismatchError, and neither a registry nor a layout keeps the blob', async () => {
    const upstream = await registryPeer();
    const image = makeTestImage({ padBytes: 3 * MiB });
    const layer = layerOf(image);
    await seedWithSkopeo(upstream, image, 'acme/api:v1');
    const host = await tamperingProxy(upstream, layer.digest, layer.size - 10);
    const from = { registry: createRegistryClient({ host, insecure: true }), repository: 'acme/api', reference: 'v1' };

    // Streamed (the default): the PUT was under way (the bytes are checked as they pass, not first
    // buffered), but its last piece is held until every byte has matched, so the registry never
    // had the whole body; the session is cancelled.
    const target = await registryPeer();
    const streamed = clientFor(target);
    const error = await copyImage({ from, to: { registry: streamed.client, repository: 'acme/api', tags: ['v1'] } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect(error).toMatchObject({ code: 'E_DIGEST_MISMATCH', expected: layer.digest, exitCode: 1 });
    // The client's own record: the aborted PUT never completed at the registry's front door.
    const puts = streamed.events.filter((e) => e.method === 'PUT' && e.url.includes('/blobs/uploads/'));
    const layerPut = puts.find((e) => e.bytesSent !== image.config.size);
    expect(layerPut?.status).toBeUndefined();
    expect(layerPut?.bytesSent).toBeGreaterThan(0);
    expect(layerPut?.bytesSent).toBeLessThan(layer.size);
    expect(streamed.events.filter((e) => e.method === 'DELETE')).toHaveLength(1);
    expect(await blobStatus(target, 'acme/api', layer.digest)).toBe(404);
    expect(target.requests.filter((r) => r.method === 'PUT' && r.path.includes('/manifests/'))).toEqual([]);

    // In chunks: PATCHes went out, the closing PUT never did.
    const chunked = await registryPeer();
    const to = clientFor(chunked, { uploadMode: 'chunks', chunkBytes: MiB, monolithicMaxBytes: MiB });
    await expect(copyImage({ from, to: { registry: to.client, repository: 'acme/api', tags: ['v1'] } })).rejects.toBeInstanceOf(DigestMismatchError);
    expect(patches(to.events).length).toBeGreaterThanOrEqual(3);
    expect(chunked.requests.filter((r) => r.method === 'PUT' && r.path.includes(hex(layer.digest)))).toEqual([]);
    expect(await blobStatus(chunked, 'acme/api', layer.digest)).toBe(404);
    expect(chunked.requests.filter((r) => r.method === 'PUT' && r.path.includes('/manifests/'))).toEqual([]);

    const dir = await tempDir();
    const layout = openOciLayout(dir);
    await expect(copyImage({ from, to: { registry: layout, repository: 'acme/api', tags: ['v1'] } })).rejects.toBeInstanceOf(DigestMismatchError);
    expect(await layout.hasBlob('acme/api', layer.digest)).toBe(false);
    const left = await readdir(join(dir, 'acme', 'api'), { recursive: true });
    expect(left.filter((name) => name.includes(hex(layer.digest)) || name.includes('.tmp-'))).toEqual([]);
    expect(await layout.listTags('acme/api')).toEqual([]);
  });

  it('refuses a source that sends more bytes than its descriptor says, before it has sent them all', async () => {
    const peer = await registryPeer();
    const { client, events } = clientFor(peer);
    const bytes = randomBytes(1 * MiB);
    let yielded = 0;
    const source: BlobSource = {
      digest: sha256(bytes),
      size: 100 * 1024,
      open: async () => ({
        size: undefined,
        chunks: (async function* () {
          for (let offset = 0; offset < bytes.length; offset += 16 * 1024) {
            yielded += 16 * 1024;
            yield bytes.subarray(offset, offset + 16 * 1024);
          }
        })(),
        close: async () => undefined,
      }),
    };
    await expect(client.pushBlobFrom('acme/api', source)).rejects.toMatchObject({ code: 'E_REGISTRY_PROTOCOL', message: expect.stringContaining('more than the 102400 bytes its descriptor says') });
    expect(yielded).toBeLessThan(bytes.length);
    expect(await blobStatus(peer, 'acme/api', source.digest)).toBe(404);
    // The session the refused source had started is cancelled.
    expect(events.map((e) => e.method)).toContain('DELETE');

    const dir = await tempDir();
    await expect(openOciLayout(dir).pushBlobFrom('acme/api', source)).rejects.toMatchObject({ code: 'E_REGISTRY_PROTOCOL' });
    expect((await readdir(dir, { recursive: true })).filter((name) => name.includes('blobs') || name.includes('.tmp-'))).toEqual([]);
  });

  it('restarts from the source when its connection breaks off mid-body, into a registry and into a layout', async () => {
    const upstream = await registryPeer();
    const image = makeTestImage({ padBytes: 2 * MiB });
    const layer = layerOf(image);
    await seedWithSkopeo(upstream, image, 'acme/api:v1');
    let hits = 0;
    const proxy = await startFaultProxy({
      target: upstream.url,
      // The first download of the layer gets its headers and half its body, then the connection drops.
      faults: { rate: 1, kinds: ['truncate'], match: (r) => r.method === 'GET' && r.path.includes(`/blobs/${layer.digest}`) && hits++ === 0 },
    });
    onTestFinished(() => proxy.stop());
    const fromClient = clientFor({ ...upstream, host: proxy.host, url: proxy.url });
    const from = { registry: fromClient.client, repository: 'acme/api', reference: 'v1' };

    const target = await registryPeer();
    const to = clientFor(target);
    const result = await copyImage({ from, to: { registry: to.client, repository: 'acme/api', tags: ['v1'] } });
    expect(result.blobs).toMatchObject({ uploaded: 2, uploadedBytes: layer.size + image.config.size });
    expect(await skopeoDigest(target, 'acme/api:v1')).toBe(image.digest);
    await skopeoPullAll(target, 'acme/api:v1');
    const downloads = proxy.stats.log.filter((r) => r.method === 'GET' && r.path.includes(`/blobs/${layer.digest}`));
    expect(downloads.map((r) => r.fault)).toEqual(['truncate', null]);
    // Two sessions for the layer: the first, cut short with its source, was cancelled.
    const layerSessions = target.requests.filter((r) => r.method === 'POST' && r.path.includes('/blobs/uploads/'));
    expect(layerSessions).toHaveLength(3);
    expect(target.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);

    hits = 0;
    const dir = await tempDir();
    const layout = openOciLayout(dir);
    await copyImage({ from, to: { registry: layout, repository: 'acme/api', tags: ['v1'] } });
    expect(sha256(await readFile(join(dir, 'acme', 'api', 'blobs', 'sha256', hex(layer.digest))))).toBe(layer.digest);
    expect((await layout.resolve('acme/api', 'v1'))?.digest).toBe(image.digest);
    expect(proxy.stats.log.filter((r) => r.method === 'GET' && r.path.includes(`/blobs/${layer.digest}`)).map((r) => r.fault)).toEqual(['truncate', null, 'truncate', null]);
  });

  it('holds at most two chunks: reading the source goes on while chunks are already sent, and none is larger than chunkBytes', async () => {
    const peer = await registryPeer();
    const chunkBytes = 1 * MiB;
    const bytes = randomBytes(20 * MiB);
    // Pieces smaller than, straddling and larger than a chunk.
    const sizes = [300 * 1024, 1700 * 1024, 3 * MiB, 64 * 1024];
    const state = { yielded: 0, patched: 0, done: false, firstPatch: undefined as { yielded: number; done: boolean } | undefined, maxHeld: 0, opens: 0 };
    const { client, events } = clientFor(peer, {
      uploadMode: 'chunks',
      chunkBytes,
      monolithicMaxBytes: chunkBytes,
      onRequest: (event) => {
        if (event.method !== 'PATCH') return;
        state.patched += event.bytesSent;
        state.firstPatch ??= { yielded: state.yielded, done: state.done };
        state.maxHeld = Math.max(state.maxHeld, state.yielded - state.patched);
      },
    });
    const source: BlobSource = {
      digest: sha256(bytes),
      size: bytes.length,
      open: async () => {
        state.opens++;
        return {
          size: bytes.length,
          chunks: (async function* () {
            for (let offset = 0, i = 0; offset < bytes.length; i++) {
              const piece = bytes.subarray(offset, offset + (sizes[i % sizes.length] as number));
              offset += piece.length;
              state.yielded += piece.length;
              yield piece;
            }
            state.done = true;
          })(),
          close: async () => undefined,
        };
      },
    };
    expect(await client.pushBlobFrom('acme/api', source)).toEqual({ outcome: 'uploaded', bytes: bytes.length });

    expect(state.opens).toBe(1);
    const sent = patches(events);
    expect(sent.length).toBeGreaterThanOrEqual(20);
    expect(Math.max(...sent.map((e) => e.bytesSent))).toBeLessThanOrEqual(chunkBytes);
    // The first chunk went out long before the source had given all of it.
    expect(state.firstPatch).toEqual({ yielded: expect.any(Number), done: false });
    // By its answer the next chunk may have been read too (it is read while one is in flight).
    expect(state.firstPatch?.yielded).toBeLessThanOrEqual(2 * chunkBytes + 3 * MiB);
    // Read but not yet sent, at any PATCH's answer: the next chunk (read while this one was in
    // flight) and at most the largest piece the source handed over.
    expect(state.maxHeld).toBeLessThanOrEqual(chunkBytes + 3 * MiB);
    expect(state.done).toBe(true);
    const stored = await fetch(`${peer.url}/v2/acme/api/blobs/${source.digest}`);
    expect(sha256(new Uint8Array(await stored.arrayBuffer()))).toBe(source.digest);
  });

  it('in chunks, uploads a layer while it is still downloading: the source sends its second half only after the first PATCH', async () => {
    const image = makeTestImage({ padBytes: 6 * MiB });
    const layer = layerOf(image);
    const source = await gatedSource(image);
    const target = await registryPeer();
    const chunkBytes = 1 * MiB;
    let patchesBeforeGate = 0;
    const to = clientFor(target, {
      uploadMode: 'chunks',
      chunkBytes,
      monolithicMaxBytes: chunkBytes,
      onRequest: (event) => {
        if (event.method !== 'PATCH' || source.state.opened) return;
        patchesBeforeGate++;
        expect(source.state.secondHalfSent).toBe(false);
        source.open();
      },
    });
    const result = await copyImage({
      from: { registry: createRegistryClient({ host: source.host, insecure: true }), repository: 'acme/api', reference: 'v1' },
      to: { registry: to.client, repository: 'acme/api', tags: ['v1'] },
    });
    expect(patchesBeforeGate).toBe(1);
    expect(result.blobs.uploadedBytes).toBe(layer.size + image.config.size);
    expect(Math.max(...patches(to.events).map((e) => e.bytesSent))).toBeLessThanOrEqual(chunkBytes);
    expect(await skopeoDigest(target, 'acme/api:v1')).toBe(image.digest);
    await skopeoPullAll(target, 'acme/api:v1');
  });

  it('streamed, uploads a layer while it is still downloading: the target receives its first half before the source sends the second', async () => {
    const image = makeTestImage({ padBytes: 6 * MiB });
    const layer = layerOf(image);
    const source = await gatedSource(image);
    const target = await registryPeer();
    // In front of the target: once 1 MiB of the layer's PUT body has arrived, let the source go on.
    let receivedBeforeGate = 0;
    const upstream = new URL(target.url);
    const { host } = await serveForTest((req, res) => {
      const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      if (req.method === 'PUT' && req.url?.includes(hex(layer.digest))) {
        req.on('data', (chunk: Buffer) => {
          if (source.state.opened) return;
          receivedBeforeGate += chunk.length;
          expect(source.state.secondHalfSent).toBe(false);
          if (receivedBeforeGate >= MiB) source.open();
        });
      }
      req.pipe(out);
    });
    const result = await copyImage({
      from: { registry: createRegistryClient({ host: source.host, insecure: true }), repository: 'acme/api', reference: 'v1' },
      to: { registry: createRegistryClient({ host, insecure: true }), repository: 'acme/api', tags: ['v1'] },
    });
    expect(receivedBeforeGate).toBeGreaterThanOrEqual(MiB);
    expect(receivedBeforeGate).toBeLessThan(layer.size / 2);
    expect(result.blobs.uploadedBytes).toBe(layer.size + image.config.size);
    expect(await skopeoDigest(target, 'acme/api:v1')).toBe(image.digest);
    await skopeoPullAll(target, 'acme/api:v1');
  });

  it('gives a registry that refuses streamed bodies chunks of at least its OCI-Chunk-Min-Length, for that blob and every later one', async () => {
    const target = await registryPeer();
    const upstream = new URL(target.url);
    const minChunk = 128 * 1024;
    const seen: string[] = [];
    // In front of the registry: one that takes no body in one piece (a PUT with content, a PATCH
    // without Content-Range) and asks for chunks of at least 128 KiB.
    const { host } = await serveForTest((req, res) => {
      let bytes = 0;
      req.on('data', (chunk: Buffer) => (bytes += chunk.length));
      const uploading = req.url?.includes('/blobs/uploads/') === true;
      const refuse = uploading && ((req.method === 'PUT' && req.headers['content-length'] !== '0') || (req.method === 'PATCH' && req.headers['content-range'] === undefined));
      if (refuse) {
        req.on('end', () => {
          const status = req.method === 'PUT' ? 413 : 416;
          seen.push(`${req.method ?? ''} ${status}`);
          res.writeHead(status, { 'Content-Length': '0' }).end();
        });
        return;
      }
      const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        const headers = { ...up.headers };
        if (req.method === 'POST' && up.statusCode === 202) headers['oci-chunk-min-length'] = String(minChunk);
        res.writeHead(up.statusCode ?? 502, headers);
        up.pipe(res);
        up.on('end', () => seen.push(`${req.method ?? ''} ${up.statusCode ?? 0}${req.method === 'PATCH' ? ` ${bytes}` : ''}`));
      });
      req.pipe(out);
    });
    const client = createRegistryClient({ host, insecure: true, chunkBytes: 64 * 1024, monolithicMaxBytes: 64 * 1024 });
    const first = randomBytes(300 * 1024);
    const second = randomBytes(300 * 1024);
    expect(await client.uploadBlob('acme/api', { digest: sha256(first), bytes: first })).toBe('uploaded');
    expect(await client.uploadBlob('acme/api', { digest: sha256(second), bytes: second })).toBe('uploaded');
    const tail = 300 * 1024 - 2 * minChunk;
    expect(seen).toEqual([
      // The streamed PUT is refused: its session is cancelled and the blob goes again, in chunks.
      'HEAD 404', 'POST 202', 'PUT 413', 'DELETE 204',
      'POST 202', `PATCH 202 ${minChunk}`, `PATCH 202 ${minChunk}`, `PATCH 202 ${tail}`, 'PUT 201',
      // The next blob goes in chunks at once.
      'HEAD 404', 'POST 202', `PATCH 202 ${minChunk}`, `PATCH 202 ${minChunk}`, `PATCH 202 ${tail}`, 'PUT 201',
    ]);
    for (const bytes of [first, second]) {
      const stored = await fetch(`${target.url}/v2/acme/api/blobs/${sha256(bytes)}`);
      expect(sha256(new Uint8Array(await stored.arrayBuffer()))).toBe(sha256(bytes));
    }
  });

  it('gives up on a download that stalls mid-body for timeoutMs, as a network failure worth retrying', async () => {
    const image = makeTestImage({ padBytes: 1 * MiB });
    const layer = layerOf(image);
    const source = await gatedSource(image);
    const client = createRegistryClient({ host: source.host, insecure: true, timeoutMs: 300 });
    const reader = await client.openBlob('acme/api', layer.digest);
    expect(reader.size).toBe(layer.size);
    let received = 0;
    const error = await (async () => {
      for await (const piece of reader.chunks) received += piece.length;
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'RegistryError', code: 'E_REGISTRY_NETWORK', message: expect.stringContaining('no data for 300 ms') });
    expect(received).toBe(Math.floor(layer.size / 2));
    expect(source.state.secondHalfSent).toBe(false);
  });
});
