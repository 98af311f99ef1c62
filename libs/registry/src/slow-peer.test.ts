import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createRegistryClient } from './index.js';

// Slow-loris peers on loopback: one that sends a byte at a steady trickle (never idle long enough
// for an idle timeout), and one that never answers. Every request ends within its documented
// bound: `timeoutMs` per exchange, `deadlineMs` per request with its retries, and a streamed body
// must keep `minBytesPerSecond`. The bounds are scaled down here; the peers' pace is the server's
// own timer, not a sleep in the test.

const TRICKLE_MS = 20;
const timers = new Set<ReturnType<typeof setInterval>>();

/** Headers at once, then one byte every TRICKLE_MS, forever. */
function trickle(res: ServerResponse, headers: Record<string, string>): void {
  res.writeHead(200, headers);
  const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write('{')), TRICKLE_MS);
  timers.add(timer);
  res.on('close', () => clearInterval(timer));
}

async function peer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ host: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method ?? ''} ${req.url ?? ''}`);
    req.resume();
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => {
    for (const timer of timers) clearInterval(timer);
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

const bounds = { timeoutMs: 400, deadlineMs: 1_000, minBytesPerSecond: 1024, sleep: async () => undefined };

async function timed<T>(promise: Promise<T>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, ms: performance.now() - started };
}

describe('every request is bounded in time', () => {
  it('a manifest trickling one byte at a time fails within the request deadline, retries included', async () => {
    const slow = await peer((_req, res) => trickle(res, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }));
    const client = createRegistryClient({ host: slow.host, insecure: true, ...bounds });
    const { error, ms } = await timed(client.getManifest('acme/api', 'v1'));
    expect(error).toMatchObject({ name: 'RegistryError', code: 'E_REGISTRY_NETWORK', message: expect.stringMatching(/no complete answer within/) });
    expect(ms).toBeLessThan(bounds.deadlineMs + 500);
    // Retried while the deadline allowed, not the full five attempts of 400 ms.
    expect(slow.requests.length).toBeGreaterThanOrEqual(2);
    expect(slow.requests.length).toBeLessThanOrEqual(3);
  });

  it('a peer that never answers fails within the request deadline', async () => {
    const silent = await peer(() => undefined);
    const client = createRegistryClient({ host: silent.host, insecure: true, ...bounds });
    const { error, ms } = await timed(client.resolve('acme/api', 'v1'));
    expect(error).toMatchObject({ code: 'E_REGISTRY_NETWORK' });
    expect(ms).toBeLessThan(bounds.deadlineMs + 500);
  });

  it('a streamed upload the registry stops taking is cut off after timeoutMs, though a whole upload may take longer', async () => {
    const bytes = new Uint8Array(32 * 1024 * 1024);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    let taken = 0;
    const stalled = await peer((req, res) => {
      if (req.method === 'HEAD') return void res.writeHead(404).end();
      if (req.method === 'POST') return void res.writeHead(202, { Location: '/v2/acme/api/blobs/uploads/1' }).end();
      // The PUT: take its first bytes, then stop reading and never answer.
      req.on('data', (chunk: Buffer) => {
        taken += chunk.length;
        if (taken > 1024 * 1024) req.pause();
      });
    });
    const client = createRegistryClient({ host: stalled.host, insecure: true, ...bounds, retry: { attempts: 1 } });
    const { error, ms } = await timed(client.uploadBlob('acme/api', { digest, bytes }));
    expect(error).toMatchObject({ code: 'E_REGISTRY_NETWORK' });
    expect(taken).toBeLessThan(bytes.length);
    expect(ms).toBeLessThan(bounds.timeoutMs * 2 + 500);
    expect(ms).toBeGreaterThanOrEqual(bounds.timeoutMs);
    expect(stalled.requests.map((r) => r.split(' ')[0])).toEqual(['HEAD', 'POST', 'PUT']);
  });

  it('a streamed blob below the minimum throughput is cut off, though it never pauses long enough to be idle', async () => {
    const digest = `sha256:${'3'.repeat(64)}`;
    const slow = await peer((_req, res) => trickle(res, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(1024 * 1024) }));
    const client = createRegistryClient({ host: slow.host, insecure: true, ...bounds });
    const reader = await client.openBlob('acme/api', digest);
    const read = (async () => {
      for await (const _chunk of reader.chunks) {
        // drain
      }
    })();
    const { error, ms } = await timed(read);
    expect(error).toMatchObject({ code: 'E_REGISTRY_NETWORK', message: expect.stringMatching(/bytes\/s, below 1024/) });
    expect(ms).toBeLessThan(bounds.timeoutMs * 2 + 500);
  });
});
