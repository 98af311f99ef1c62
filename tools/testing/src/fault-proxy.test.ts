import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { FAULT_KINDS, startFaultProxy, type FaultKind, type FaultProxy, type FaultSettings } from './fault-proxy.js';

const BIG = Buffer.alloc(10_000, 'x');

/** An upstream that records what it received: a write "applies" when it reaches here. */
async function upstream() {
  const received: { method: string; path: string; body: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', path: req.url ?? '', body: Buffer.concat(chunks).toString() });
      if (req.url === '/big') {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(BIG.length), 'X-Upstream': 'yes' });
        res.end(req.method === 'HEAD' ? undefined : BIG);
        return;
      }
      if (req.url === '/chunked') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.write('part one, ');
        res.end('part two');
        return;
      }
      const body = JSON.stringify({ host: req.headers.host, stored: Buffer.concat(chunks).toString() });
      res.writeHead(req.method === 'POST' ? 201 : 200, { 'Content-Type': 'application/json', Location: '/things/1' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

async function proxyTo(target: string, faults: FaultSettings | null = null): Promise<FaultProxy> {
  const proxy = await startFaultProxy({ target, faults });
  onTestFinished(() => proxy.stop());
  return proxy;
}

/** A fetch that reports a transport failure as a value, with the error code undici gave. */
async function attempt(url: string, init?: RequestInit): Promise<{ status: number; body: Buffer; headers: Headers } | { failed: string }> {
  try {
    const response = await fetch(url, init);
    return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { failed: cause?.code ?? cause?.message ?? String(error) };
  }
}

const only = (kind: FaultKind): FaultSettings => ({ rate: 1, kinds: [kind], seed: 1 });

describe('startFaultProxy', () => {
  it('without faults is transparent: method, path, Host, body, status and headers pass through', async () => {
    const up = await upstream();
    const proxy = await proxyTo(up.url);
    const posted = await attempt(`${proxy.url}/things?x=1`, { method: 'POST', body: 'payload' });
    expect(posted).toMatchObject({ status: 201 });
    if (!('status' in posted)) throw new Error('unreachable');
    expect(posted.headers.get('location')).toBe('/things/1');
    // The Host header is kept, so an upstream that builds absolute URLs names the proxy.
    expect(JSON.parse(posted.body.toString())).toEqual({ host: proxy.host, stored: 'payload' });
    const big = await attempt(`${proxy.url}/big`);
    expect(big).toMatchObject({ status: 200 });
    if ('body' in big) expect(big.body.equals(BIG)).toBe(true);
    const chunked = await attempt(`${proxy.url}/chunked`);
    if ('body' in chunked) expect(chunked.body.toString()).toBe('part one, part two');
    expect(up.received.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /things?x=1', 'GET /big', 'GET /chunked']);
    expect(proxy.stats.forwarded).toBe(3);
    expect(proxy.stats.log.every((r) => r.fault === null)).toBe(true);
  });

  it('503 and 429 are answered before forwarding; 429 carries a small Retry-After', async () => {
    const up = await upstream();
    const proxy = await proxyTo(up.url, only('503'));
    expect(await attempt(`${proxy.url}/w`, { method: 'POST', body: 'a' })).toMatchObject({ status: 503 });
    proxy.setFaults({ ...only('429'), retryAfterSeconds: 1 });
    const limited = await attempt(`${proxy.url}/w`, { method: 'POST', body: 'b' });
    expect(limited).toMatchObject({ status: 429 });
    if ('headers' in limited) expect(limited.headers.get('retry-after')).toBe('1');
    expect(up.received).toEqual([]);
    expect(proxy.stats.faults).toMatchObject({ '503': 1, '429': 1 });
  });

  it('reset drops the connection before the upstream sees the request', async () => {
    const up = await upstream();
    const proxy = await proxyTo(up.url, only('reset'));
    expect(await attempt(`${proxy.url}/w`, { method: 'POST', body: 'a' })).toHaveProperty('failed');
    expect(up.received).toEqual([]);
  });

  it('lost: the upstream applied the write, the client never hears back', async () => {
    const up = await upstream();
    const proxy = await proxyTo(up.url, only('lost'));
    expect(await attempt(`${proxy.url}/w`, { method: 'POST', body: 'applied' })).toHaveProperty('failed');
    expect(up.received).toEqual([{ method: 'POST', path: '/w', body: 'applied' }]);
    expect(proxy.stats.log[0]).toMatchObject({ fault: 'lost', upstreamStatus: 201 });
  });

  it('truncate sends the full Content-Length and half the body, then drops the connection', async () => {
    const up = await upstream();
    const proxy = await proxyTo(up.url, only('truncate'));
    const response = await fetch(`${proxy.url}/big`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe(String(BIG.length));
    await expect(response.arrayBuffer()).rejects.toThrow();
    // A response without a body has nothing to cut: the connection is dropped instead.
    expect(await attempt(`${proxy.url}/big`, { method: 'HEAD' })).toHaveProperty('failed');
    expect(up.received).toHaveLength(2);
  });

  it('slow trickles the body in delayed pieces, intact', async () => {
    const up = await upstream();
    const proxy = await proxyTo(up.url, { ...only('slow'), slowDelayMs: 2, slowChunkBytes: 1000 });
    const response = await fetch(`${proxy.url}/big`);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const pieces: Uint8Array[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      pieces.push(value);
    }
    expect(Buffer.concat(pieces).equals(BIG)).toBe(true);
    expect(pieces.length).toBeGreaterThan(1);
  });

  it('is deterministic for a seed, differs across seeds, and hits about the rate asked', async () => {
    const up = await upstream();
    const sequence = async (seed: number) => {
      const proxy = await proxyTo(up.url, { rate: 0.25, kinds: ['503', '429'], seed });
      for (let i = 0; i < 200; i++) await attempt(`${proxy.url}/r${String(i)}`);
      return proxy.stats.log.map((r) => r.fault);
    };
    const a = await sequence(42);
    expect(await sequence(42)).toEqual(a);
    expect(await sequence(43)).not.toEqual(a);
    const hits = a.filter((f) => f !== null).length;
    expect(hits).toBeGreaterThan(200 * 0.15);
    expect(hits).toBeLessThan(200 * 0.35);
    expect(new Set(a.filter((f) => f !== null))).toEqual(new Set(['503', '429']));
  });

  it('faults only requests that match, and stops on setFaults(null)', async () => {
    const up = await upstream();
    const proxy = await proxyTo(up.url, { rate: 1, kinds: ['503'], seed: 3, match: (r) => r.method === 'POST' });
    expect(await attempt(`${proxy.url}/read`)).toMatchObject({ status: 200 });
    expect(await attempt(`${proxy.url}/write`, { method: 'POST', body: 'x' })).toMatchObject({ status: 503 });
    proxy.setFaults(null);
    expect(await attempt(`${proxy.url}/write`, { method: 'POST', body: 'x' })).toMatchObject({ status: 201 });
  });

  it('hold keeps the first matching request from the upstream until released; later ones pass', async () => {
    const up = await upstream();
    const proxy = await proxyTo(up.url);
    const held = proxy.hold((r) => r.method === 'PUT');
    const first = attempt(`${proxy.url}/one`, { method: 'PUT', body: 'first' });
    await held.arrived;
    expect(await attempt(`${proxy.url}/two`, { method: 'PUT', body: 'second' })).toMatchObject({ status: 200 });
    expect(up.received.map((r) => r.body)).toEqual(['second']);
    held.release();
    expect(await first).toMatchObject({ status: 200 });
    expect(up.received.map((r) => r.body)).toEqual(['second', 'first']);
  });

  it('down refuses connections like a dead host; up serves again on the same port', async () => {
    const up = await upstream();
    const proxy = await proxyTo(up.url);
    expect(await attempt(`${proxy.url}/a`)).toMatchObject({ status: 200 });
    await proxy.down();
    expect(await attempt(`${proxy.url}/a`)).toEqual({ failed: 'ECONNREFUSED' });
    await proxy.up();
    expect(await attempt(`${proxy.url}/a`)).toMatchObject({ status: 200 });
  });

  it('answers 502 when the upstream itself is unreachable', async () => {
    const up = await upstream();
    const dead = await proxyTo(up.url);
    await dead.down();
    const proxy = await proxyTo(dead.url);
    expect(await attempt(`${proxy.url}/a`)).toMatchObject({ status: 502 });
  });

  it('knows every kind it documents', () => {
    expect([...FAULT_KINDS].sort()).toEqual(['429', '503', 'lost', 'reset', 'slow', 'truncate']);
  });
});
