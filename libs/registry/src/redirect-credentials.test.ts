import type { IncomingMessage, ServerResponse } from 'node:http';
import { createTestCertificate, makeTestImage, startDualFront, tlsFetch, type DualFront, type TestCertificate } from '@slipway/testing';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createRegistryClient, staticCredentials } from './index.js';

// A registry on https://h:p whose redirects point at http://h:p (the same URL host: one port
// answers both TLS and plain http), or at a CDN on another origin. A credential is bound to the
// exact origin it was issued for, and never travels in clear text. Both wires the client can
// speak through make the same decisions: node:https (the default, trusting the test CA through
// the `ca` option) and a caller's fetch.

const PASSWORD = 'tls-registry-password-Hq7Zx';
const layer = makeTestImage().layers[0] as { digest: string; bytes: Uint8Array };
let certificate: TestCertificate;

beforeAll(async () => {
  certificate = await createTestCertificate();
});

async function front(handler: (req: IncomingMessage, res: ServerResponse, secure: boolean, self: DualFront) => void): Promise<DualFront> {
  const self: { front?: DualFront } = {};
  const started = await startDualFront(certificate, (req, res, secure) => handler(req, res, secure, self.front as DualFront));
  self.front = started;
  onTestFinished(() => started.stop());
  return started;
}

const basic = `Basic ${Buffer.from(`u:${PASSWORD}`).toString('base64')}`;

/** Asks for Basic auth over TLS; with it, redirects every request to `target(path)`. */
function redirectingRegistry(target: (self: DualFront, path: string) => string) {
  return (req: IncomingMessage, res: ServerResponse, secure: boolean, self: DualFront) => {
    if (!secure) return void res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(layer.bytes);
    if (req.headers.authorization !== basic) return void res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="r"' }).end();
    res.writeHead(307, { Location: target(self, req.url ?? '/') }).end();
  };
}

/** How the client reaches https: its own node:https wire, or an injected fetch. */
const wires: [string, () => { ca: string } | { fetch: typeof globalThis.fetch }][] = [
  ['node:https (the default wire)', () => ({ ca: certificate.cert })],
  ["a caller's fetch", () => ({ fetch: tlsFetch(certificate.cert) })],
];

describe.each(wires)('credentials stay on the origin they were issued for, through %s', (_name, wire) => {
  it('refuses an https → http redirect to the same host and port, sending nothing in clear text', async () => {
    const registry = await front(redirectingRegistry((self, path) => `http://${self.host}${path}`));
    const client = createRegistryClient({ host: registry.host, credentials: staticCredentials(registry.host, { username: 'u', password: PASSWORD }), ...wire() });

    await expect(client.getManifest('acme/api', 'v1')).rejects.toMatchObject({ code: 'E_REGISTRY_UNSAFE_URL', message: expect.stringMatching(/downgrades https to plain http/) });
    await expect(client.getBlob('acme/api', layer.digest)).rejects.toMatchObject({ code: 'E_REGISTRY_UNSAFE_URL' });
    expect(registry.requests.filter((r) => !r.secure)).toEqual([]);
    expect(registry.requests.some((r) => r.authorization === basic)).toBe(true);
  });

  it('follows an https → http blob redirect only to a host in insecureRegistries, and without the Authorization header', async () => {
    const registry = await front(redirectingRegistry((self, path) => `http://${self.host}${path}`));
    const client = createRegistryClient({
      host: registry.host,
      insecureHosts: [registry.host],
      credentials: staticCredentials(registry.host, { username: 'u', password: PASSWORD }),
      ...wire(),
    });

    expect(await client.getBlob('acme/api', layer.digest)).toEqual(layer.bytes);
    const plain = registry.requests.filter((r) => !r.secure);
    expect(plain).toHaveLength(1);
    expect(plain[0]?.authorization).toBeUndefined();
    // A manifest is not a CDN download: another origin (here: another scheme) is refused.
    await expect(client.getManifest('acme/api', 'v1')).rejects.toMatchObject({ code: 'E_REGISTRY_UNSAFE_URL' });
    expect(registry.requests.filter((r) => !r.secure)).toHaveLength(1);
  });

  it('follows a blob redirect to an https CDN on another port without credentials (Basic and Bearer)', async () => {
    const cdn = await front((_req, res) => void res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(layer.bytes));
    const registry = await front(redirectingRegistry(() => `https://${cdn.host}/blob?sig=1`));
    const client = createRegistryClient({ host: registry.host, credentials: staticCredentials(registry.host, { username: 'u', password: PASSWORD }), ...wire() });
    expect(await client.getBlob('acme/api', layer.digest)).toEqual(layer.bytes);
    expect(cdn.requests.map((r) => [r.secure, r.authorization])).toEqual([[true, undefined]]);

    const token = 'bearer-token-for-the-registry-Lm4Pq';
    const bearerCdn = await front((_req, res) => void res.writeHead(200).end(layer.bytes));
    const bearerRegistry = await front((req, res, _secure, self) => {
      if (req.url?.startsWith('/token')) return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token }));
      if (req.headers.authorization !== `Bearer ${token}`) {
        return void res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="https://${self.host}/token",service="r"` }).end();
      }
      res.writeHead(307, { Location: `https://${bearerCdn.host}/blob` }).end();
    });
    const bearerClient = createRegistryClient({
      host: bearerRegistry.host,
      credentials: staticCredentials(bearerRegistry.host, { username: 'u', password: PASSWORD }),
      ...wire(),
    });
    expect(await bearerClient.getBlob('acme/api', layer.digest)).toEqual(layer.bytes);
    expect(bearerCdn.requests.map((r) => r.authorization)).toEqual([undefined]);
  });
});
