import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { makeTestImage, makeTestMultiPlatform, type RegistryPeer } from '@slipway/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { clientFor, registryPeer, seedWithSkopeo, serveForTest, skopeoPullAll } from '../test/peers.js';
import { createRegistryClient, DeniedError, DigestMismatchError, RateLimitedError, staticCredentials } from './index.js';

type Rewrite = (req: IncomingMessage, status: number, headers: Record<string, string | string[] | undefined>, body: Buffer) => { headers?: Record<string, string>; body?: Buffer } | undefined;

/** A proxy in front of the peer that may rewrite responses: a registry (or a hop) gone bad. */
async function rewritingProxy(peer: RegistryPeer, rewrite: Rewrite): Promise<string> {
  const upstream = new URL(peer.url);
  const { host } = await serveForTest((req: IncomingMessage, res: ServerResponse) => {
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        const body = Buffer.concat(chunks);
        const changed = rewrite(req, up.statusCode ?? 502, up.headers, body);
        const headers = { ...up.headers, ...changed?.headers };
        const sent = changed?.body ?? body;
        if (req.method !== 'HEAD') headers['content-length'] = String(sent.length);
        res.writeHead(up.statusCode ?? 502, headers);
        res.end(req.method === 'HEAD' ? undefined : sent);
      });
    });
    req.pipe(out);
  });
  return host;
}

describe('retries', () => {
  it('retries 503 and 429 on reads with capped backoff, honouring Retry-After', async () => {
    const peer = await registryPeer();
    const image = makeTestImage();
    await seedWithSkopeo(peer, image, 'acme/api:v1');
    const { client, sleeps } = clientFor(peer);
    peer.injectFault({ method: 'HEAD', path: '/manifests/v1', status: 503, times: 2 });
    peer.injectFault({ method: 'HEAD', path: '/manifests/v1', status: 429, headers: { 'Retry-After': '3' } });
    expect(await client.resolve('acme/api', 'v1')).toMatchObject({ digest: image.digest });
    // random() = 0.5: three quarters of 250 ms, then of 500 ms; then exactly what Retry-After said.
    expect(sleeps).toEqual([188, 375, 3000]);
  });

  it('gives up as RateLimitedError when Retry-After is longer than it will wait, or retries run out', async () => {
    const peer = await registryPeer();
    const { client, sleeps } = clientFor(peer, { retry: { attempts: 3, maxRetryAfterMs: 10_000 } });
    peer.injectFault({ method: 'GET', path: '/tags/list', status: 429, headers: { 'Retry-After': '3600' } });
    const error = await client.listTags('acme/api').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ retryAfterMs: 3_600_000, exitCode: 1, code: 'E_REGISTRY_RATE_LIMITED' });
    expect(sleeps).toEqual([]);

    peer.injectFault({ method: 'GET', path: '/tags/list', status: 503, times: 3 });
    await expect(client.listTags('acme/api')).rejects.toMatchObject({ status: 503, code: 'E_REGISTRY' });
    expect(sleeps).toHaveLength(2);
  });

  it('retries a read whose connection was reset', async () => {
    const peer = await registryPeer();
    const image = makeTestImage();
    await seedWithSkopeo(peer, image, 'acme/api:v1');
    const { client, sleeps } = clientFor(peer);
    peer.injectFault({ method: 'GET', path: '/manifests/v1', reset: 'before' });
    expect((await client.getManifest('acme/api', 'v1')).digest).toBe(image.digest);
    expect(sleeps).toHaveLength(1);
  });

  it('does not repeat an upload whose response was lost: it checks the blob landed', async () => {
    const peer = await registryPeer();
    const { client } = clientFor(peer);
    const image = makeTestImage();
    peer.injectFault({ method: 'PUT', path: '/blobs/uploads/', reset: 'after' });
    expect(await client.uploadBlob('acme/api', image.config)).toBe('present');
    expect(peer.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['HEAD 404', 'POST 202', 'PUT 0', 'HEAD 200']);
  });

  it('restarts a streamed upload that failed before landing, and the blob arrives intact', async () => {
    const peer = await registryPeer();
    const { client } = clientFor(peer);
    const image = makeTestImage({ padBytes: 10_000 });
    peer.injectFault({ method: 'POST', path: '/blobs/uploads/', status: 503 });
    peer.injectFault({ method: 'PUT', path: '/blobs/uploads/', reset: 'before' });
    for (const blob of [image.config, ...image.layers]) await client.pushBlob('acme/api', blob);
    await client.putManifest('acme/api', 'v1', image);
    expect(peer.requests.filter((r) => r.fault).map((r) => r.method)).toEqual(['POST', 'PUT']);
    await skopeoPullAll(peer, 'acme/api:v1');
  });

  it('restarts a chunked upload that failed before landing, and the blob arrives intact', async () => {
    const peer = await registryPeer();
    const { client } = clientFor(peer, { uploadMode: 'chunks', monolithicMaxBytes: 1024, chunkBytes: 4096 });
    const image = makeTestImage({ padBytes: 10_000 });
    peer.injectFault({ method: 'POST', path: '/blobs/uploads/', status: 503 });
    peer.injectFault({ method: 'PATCH', path: '/blobs/uploads/', reset: 'before' });
    for (const blob of [image.config, ...image.layers]) await client.pushBlob('acme/api', blob);
    await client.putManifest('acme/api', 'v1', image);
    expect(peer.requests.filter((r) => r.fault).map((r) => r.method)).toEqual(['POST', 'PATCH']);
    await skopeoPullAll(peer, 'acme/api:v1');
  });

  it('does not retry a 4xx', async () => {
    const peer = await registryPeer();
    const { client, sleeps } = clientFor(peer);
    peer.injectFault({ method: 'GET', path: '/manifests/v1', status: 400, body: '{"errors":[{"code":"MANIFEST_INVALID","message":"bad"}]}' });
    await expect(client.getManifest('acme/api', 'v1')).rejects.toMatchObject({ status: 400, ociCode: 'MANIFEST_INVALID' });
    expect(sleeps).toEqual([]);
  });
});

describe('untrustworthy answers', () => {
  it('rejects a tampered manifest, by tag and by digest', async () => {
    const peer = await registryPeer();
    const index = makeTestMultiPlatform();
    await seedWithSkopeo(peer, index, 'acme/api:v1');
    const host = await rewritingProxy(peer, (req, status, _headers, body) =>
      req.method === 'GET' && req.url?.includes('/manifests/') && status === 200 ? { body: Buffer.from(body.toString().replace('arm64', 'amd64')) } : undefined,
    );
    const client = createRegistryClient({ host, insecure: true });
    const byTag = await client.getManifest('acme/api', 'v1').catch((e: unknown) => e);
    expect(byTag).toBeInstanceOf(DigestMismatchError);
    expect(byTag).toMatchObject({ expected: index.digest, code: 'E_DIGEST_MISMATCH' });
    await expect(client.getManifest('acme/api', index.digest)).rejects.toBeInstanceOf(DigestMismatchError);
  });

  it('rejects a tampered manifest even when the digest header is rewritten to match', async () => {
    const peer = await registryPeer();
    const index = makeTestMultiPlatform();
    await seedWithSkopeo(peer, index, 'acme/api:v1');
    const host = await rewritingProxy(peer, (req, status, _headers, body) =>
      req.url?.includes('/manifests/') && status === 200
        ? { body: Buffer.from(body.toString().replace('arm64', 'amd64')), headers: { 'docker-content-digest': makeTestImage().digest } }
        : undefined,
    );
    const client = createRegistryClient({ host, insecure: true });
    await expect(client.getManifest('acme/api', index.digest)).rejects.toBeInstanceOf(DigestMismatchError);
  });

  it('refuses a tag list Link that points to another host', async () => {
    const peer = await registryPeer({ tagPageSize: 1 });
    const image = makeTestImage();
    await seedWithSkopeo(peer, image, 'acme/api:v1');
    await seedWithSkopeo(peer, image, 'acme/api:v2');
    const host = await rewritingProxy(peer, (req) => (req.url?.includes('/tags/list') ? { headers: { link: '<https://elsewhere.example/v2/acme/api/tags/list?last=v1>; rel="next"' } } : undefined));
    const events: string[] = [];
    const client = createRegistryClient({ host, insecure: true, onRequest: (e) => events.push(e.url) });
    await expect(client.listTags('acme/api')).rejects.toMatchObject({ code: 'E_REGISTRY_UNSAFE_URL', message: expect.stringContaining('elsewhere.example') });
    expect(events).toEqual([`http://${host}/v2/acme/api/tags/list`]);
  });

  it('keeps credentials out of errors even when the registry echoes them back', async () => {
    const peer = await registryPeer({ auth: 'htpasswd' });
    const { client } = clientFor(peer);
    expect(await client.resolve('acme/api', 'v1')).toBeUndefined();
    const basic = Buffer.from(`${peer.username}:${peer.password}`).toString('base64');
    peer.injectFault({ method: 'GET', path: '/tags/list', status: 500, times: 10, body: JSON.stringify({ errors: [{ code: 'UNKNOWN', message: `echo ${peer.password} Basic ${basic}` }] }) });
    const error = await client.listTags('acme/api').catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 500, ociCode: 'UNKNOWN' });
    const shown = inspect(error, { depth: 10 });
    expect(shown).toContain('echo *** ***');
    expect(shown).not.toContain(peer.password as string);
    expect(shown).not.toContain(basic);
  });
});

describe('redirects', () => {
  it('follows a blob download to another host without credentials, and refuses other cross-host redirects', async () => {
    const layer = makeTestImage().layers[0] as { digest: string; bytes: Uint8Array };
    const cdnSeen: (string | undefined)[] = [];
    const cdn = createServer((req, res) => {
      cdnSeen.push(req.headers.authorization);
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(layer.bytes);
    });
    await new Promise<void>((resolve) => cdn.listen(0, '127.0.0.1', resolve));
    const cdnPort = (cdn.address() as AddressInfo).port;
    const registry = createServer((req, res) => {
      if (req.headers.authorization !== `Basic ${Buffer.from('u:redirect-secret').toString('base64')}`) {
        return void res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="r"' }).end();
      }
      res.writeHead(307, { Location: `http://127.0.0.1:${cdnPort}/blob-data?sig=abc` }).end();
    });
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
    onTestFinished(async () => {
      await new Promise<void>((resolve) => cdn.close(() => resolve()));
      await new Promise<void>((resolve) => registry.close(() => resolve()));
    });
    const host = `127.0.0.1:${(registry.address() as AddressInfo).port}`;
    const client = createRegistryClient({ host, insecure: true, credentials: staticCredentials(host, { username: 'u', password: 'redirect-secret' }) });
    expect(await client.getBlob('acme/api', layer.digest)).toEqual(layer.bytes);
    expect(cdnSeen).toEqual([undefined]);
    await expect(client.getManifest('acme/api', 'v1')).rejects.toMatchObject({ code: 'E_REGISTRY_UNSAFE_URL' });
    expect(cdnSeen).toHaveLength(1);
  });
});

describe('GHCR', () => {
  it('explains a 403 with the package-linking hint, and 403 is never "absent"', async () => {
    const server = createServer((req, res) => {
      if (req.url?.startsWith('/token')) return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"token":"t0k3n-value"}');
      if (!req.headers.authorization) return void res.writeHead(401, { 'WWW-Authenticate': 'Bearer realm="https://ghcr.io/token",service="ghcr.io"' }).end();
      res.writeHead(403, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"DENIED","message":"permission_denied: write_package"}]}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;
    const client = createRegistryClient({
      host: 'ghcr.io',
      credentials: async () => ({ username: 'x', password: 'ghs_secret', tokenOnly: true }),
      fetch: (input, init) => globalThis.fetch(String(input).replace('https://ghcr.io', `http://127.0.0.1:${port}`), init),
    });
    const error = await client.resolve('acme/api', 'v1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeniedError);
    expect(error).toMatchObject({ status: 403, exitCode: 1 });
    expect((error as Error).message).toMatch(/Manage Actions access/);
    await expect(client.getManifest('acme/api', 'v1')).rejects.toMatchObject({ name: 'DeniedError', ociCode: 'DENIED', message: expect.stringContaining('permission_denied') });
  });
});
