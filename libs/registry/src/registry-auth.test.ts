import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { makeTestImage, makeTestMultiPlatform, type RegistryPeer } from '@slipway/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { clientFor, registryPeer, seedWithSkopeo, skopeoDigest, skopeoPullAll } from '../test/peers.js';
import { copyImage, createRegistryClient, githubTokenCredentials, staticCredentials, UnauthorizedError } from './index.js';

/** A fetch that records the Authorization header of every request, by host. */
function recordingFetch(): { fetch: typeof globalThis.fetch; sent: { host: string; path: string; authorization: string | null }[] } {
  const sent: { host: string; path: string; authorization: string | null }[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    sent.push({ host: url.host, path: url.pathname, authorization: new Headers(init?.headers).get('authorization') });
    return globalThis.fetch(input, init);
  };
  return { fetch, sent };
}

function wrongPassword(peer: RegistryPeer) {
  return staticCredentials(peer.host, { username: peer.username as string, password: 'not-the-password-s3cr3t' });
}

describe('htpasswd auth', () => {
  it('answers the Basic challenge with the configured credentials and pushes', async () => {
    const peer = await registryPeer({ auth: 'htpasswd' });
    const { client } = clientFor(peer);
    const image = makeTestImage();
    for (const blob of [image.config, ...image.layers]) await client.pushBlob('acme/api', blob);
    await client.putManifest('acme/api', 'v1', image);
    // One challenge for the whole session: Basic is sent up front afterwards.
    expect(peer.requests.filter((r) => r.status === 401)).toHaveLength(1);
    expect(await skopeoDigest(peer, 'acme/api:v1')).toBe(image.digest);
  });

  it('fails typed without credentials, and with wrong ones never shows the password', async () => {
    const peer = await registryPeer({ auth: 'htpasswd' });
    const anonymous = clientFor(peer, { credentials: async () => undefined }).client;
    await expect(anonymous.resolve('acme/api', 'v1')).rejects.toThrow(/unauthorized .*no credentials found for/);
    const wrong = clientFor(peer, { credentials: wrongPassword(peer) }).client;
    const error = await wrong.listTags('acme/api').catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'UnauthorizedError', code: 'E_REGISTRY_UNAUTHORIZED', status: 401, exitCode: 1 });
    const shown = inspect(error, { depth: 10 });
    expect(shown).not.toContain('not-the-password-s3cr3t');
    expect(shown).not.toContain(Buffer.from(`${peer.username}:not-the-password-s3cr3t`).toString('base64'));
  });

  it('never sends a token-only credential (GITHUB_TOKEN) as Basic to /v2/', async () => {
    const peer = await registryPeer({ auth: 'htpasswd' });
    const { fetch, sent } = recordingFetch();
    const client = createRegistryClient({
      host: peer.host,
      insecure: true,
      fetch,
      credentials: async () => ({ username: peer.username as string, password: peer.password as string, tokenOnly: true }),
    });
    await expect(client.resolve('acme/api', 'v1')).rejects.toBeInstanceOf(UnauthorizedError);
    expect(sent.map((s) => s.authorization)).toEqual([null]);
  });
});

describe('token auth', () => {
  it('pushes, copies and lists through the challenge and token exchange, caching tokens per scope', async () => {
    const peer = await registryPeer({ auth: 'token' });
    const { fetch, sent } = recordingFetch();
    const { client } = clientFor(peer, { fetch, tagPageSize: 1 });
    const image = makeTestImage();
    for (const blob of [image.config, ...image.layers]) await client.pushBlob('acme/api', blob);
    await client.putManifest('acme/api', 'v1', image);
    await client.putManifest('acme/api', 'v2', image);
    expect(await client.listTags('acme/api')).toEqual(['v1', 'v2']);

    // One challenge, then tokens are fetched before requests that need them, once per scope.
    expect(peer.requests.filter((r) => r.status === 401)).toHaveLength(1);
    const issued = peer.tokenIssuer?.requests ?? [];
    expect(issued.map((r) => [r.subject, r.granted.map((g) => `${g.name}:${g.actions.join(',')}`)])).toEqual([['slipway', ['acme/api:pull,push']]]);
    // The password goes to the realm only; the registry sees Bearer tokens.
    const toRegistry = sent.filter((s) => s.host === peer.host);
    expect(toRegistry.every((s) => s.authorization === null || s.authorization.startsWith('Bearer '))).toBe(true);
    expect(sent.filter((s) => s.authorization?.startsWith('Basic ')).every((s) => s.path === '/token')).toBe(true);
    expect(await skopeoDigest(peer, 'acme/api:v2')).toBe(image.digest);
  });

  it('copies a two-platform index across repositories with one token covering both', async () => {
    const peer = await registryPeer({ auth: 'token' });
    const index = makeTestMultiPlatform();
    await seedWithSkopeo(peer, index, 'staging/api:1.0.0-staging.1');
    const { client } = clientFor(peer);
    const issuedBefore = peer.tokenIssuer?.requests.length ?? 0;
    peer.clearRequests();
    const result = await copyImage({ from: { registry: client, repository: 'staging/api', reference: '1.0.0-staging.1' }, to: { repository: 'prod/api', tags: ['1.0.0'] } });
    expect(result.blobs).toMatchObject({ mounted: 4, uploaded: 0 });
    expect(peer.requests.some((r) => r.method === 'PATCH' || (r.method === 'PUT' && r.path.includes('/blobs/')))).toBe(false);
    const grants = (peer.tokenIssuer?.requests ?? []).slice(issuedBefore).map((r) => r.granted.map((g) => `${g.name}:${g.actions.join(',')}`).join(' '));
    expect(grants).toContain('prod/api:pull,push staging/api:pull');
    await skopeoPullAll(peer, 'prod/api:1.0.0');
  });

  it('fetches a new token once the cached one expires', async () => {
    const peer = await registryPeer({ auth: 'token' });
    let now = Date.now();
    const { client } = clientFor(peer, { now: () => now });
    await client.resolve('acme/api', 'v1');
    await client.resolve('acme/api', 'v2');
    expect(peer.tokenIssuer?.requests).toHaveLength(1);
    now += 10 * 60_000;
    await client.resolve('acme/api', 'v1');
    expect(peer.tokenIssuer?.requests).toHaveLength(2);
  });

  it('pulls anonymously when the issuer allows it, and reports 401 for a push', async () => {
    const peer = await registryPeer({ auth: 'token', anonymousPull: true });
    const image = makeTestImage();
    await seedWithSkopeo(peer, image, 'public/api:v1');
    const { client } = clientFor(peer, { credentials: async () => undefined });
    expect(await client.resolve('public/api', 'v1')).toMatchObject({ digest: image.digest });
    await expect(client.putManifest('public/api', 'v2', image)).rejects.toMatchObject({
      name: 'UnauthorizedError',
      status: 401,
      message: expect.stringContaining('no credentials found for'),
    });
  });

  it('reports wrong credentials as unauthorized at the token service, without the password', async () => {
    const peer = await registryPeer({ auth: 'token' });
    const { client } = clientFor(peer, { credentials: wrongPassword(peer) });
    const error = await client.resolve('acme/api', 'v1').catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'UnauthorizedError', status: 401 });
    expect((error as Error).message).toMatch(/token service .* refused to log in as slipway/);
    expect(inspect(error, { depth: 10 })).not.toContain('not-the-password-s3cr3t');
  });

  it('uses GITHUB_TOKEN only at the token realm, never raw on /v2/', async () => {
    // A stand-in for ghcr.io: the client speaks https to "ghcr.io"; the fetch routes it to a
    // local server that challenges like GHCR and records what it receives.
    const seen: { path: string; authorization: string | undefined }[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
      if (req.url?.startsWith('/token')) {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: 'ghcr-registry-token-1234' }));
      } else if (req.headers.authorization === 'Bearer ghcr-registry-token-1234') {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
      } else {
        res.writeHead(401, { 'WWW-Authenticate': 'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/api:pull"' }).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;
    const client = createRegistryClient({
      host: 'ghcr.io',
      credentials: githubTokenCredentials({ GITHUB_TOKEN: 'ghp_fake_github_token_value', GITHUB_ACTOR: 'octocat' }),
      fetch: (input, init) => globalThis.fetch(String(input).replace('https://ghcr.io', `http://127.0.0.1:${port}`), init),
    });
    expect(await client.resolve('acme/api', 'v1')).toBeUndefined();
    const basic = `Basic ${Buffer.from('octocat:ghp_fake_github_token_value').toString('base64')}`;
    expect(seen).toEqual([
      { path: '/v2/acme/api/manifests/v1', authorization: undefined },
      { path: '/token?service=ghcr.io&scope=repository%3Aacme%2Fapi%3Apull&account=octocat', authorization: basic },
      { path: '/v2/acme/api/manifests/v1', authorization: 'Bearer ghcr-registry-token-1234' },
    ]);
  });

  it('refuses a plain-http token realm for a registry spoken to over https, sending nothing there', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.headers.host} ${req.url}`);
      res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://127.0.0.1:${(server.address() as AddressInfo).port}/token",service="x"` }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;
    const client = createRegistryClient({
      host: 'registry.example',
      credentials: staticCredentials('registry.example', { username: 'u', password: 'realm-secret-pw' }),
      fetch: (input, init) => globalThis.fetch(String(input).replace('https://registry.example', `http://127.0.0.1:${port}`), init),
    });
    await expect(client.resolve('acme/api', 'v1')).rejects.toMatchObject({ code: 'E_REGISTRY_UNSAFE_URL', message: expect.stringMatching(/refusing to send credentials to the token realm http:/) });
    expect(seen).toEqual([`127.0.0.1:${port} /v2/acme/api/manifests/v1`]);
  });

  it('an insecure (http) registry may not send credentials in clear to a realm on another host', async () => {
    const realmSeen: string[] = [];
    const realm = createServer((req, res) => {
      realmSeen.push(req.url ?? '');
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"token":"t"}');
    });
    await new Promise<void>((resolve) => realm.listen(0, '127.0.0.2', resolve));
    onTestFinished(() => new Promise<void>((resolve) => realm.close(() => resolve())));
    const registry = createServer((_req, res) => {
      res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://127.0.0.2:${(realm.address() as AddressInfo).port}/token",service="x"` }).end();
    });
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => registry.close(() => resolve())));
    const host = `127.0.0.1:${(registry.address() as AddressInfo).port}`;
    const client = createRegistryClient({ host, insecure: true, credentials: staticCredentials(host, { username: 'u', password: 'realm-secret-pw' }) });
    await expect(client.resolve('acme/api', 'v1')).rejects.toMatchObject({ code: 'E_REGISTRY_UNSAFE_URL' });
    expect(realmSeen).toEqual([]);
  });
});
