import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createGitHub } from './create-github.js';

// A GitHub API that answers with an endless JSON body (generated as it is sent), or one byte at a
// time: the adapter reads at most maxResponseBytes and gives each attempt timeoutMs in all.

const TOKEN = 'ghs_boundedTest0123456789abcdefABCDEF01';

async function api(handler: (req: IncomingMessage, res: ServerResponse, sent: { bytes: number }) => void): Promise<{ url: string; sent: { bytes: number }; requests: number[] }> {
  const sent = { bytes: 0 };
  const requests: number[] = [];
  const timers = new Set<ReturnType<typeof setInterval>>();
  const server = createServer((req, res) => {
    requests.push(Date.now());
    req.resume();
    res.on('close', () => timers.forEach(clearInterval));
    handler(req, res, sent);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => {
    timers.forEach(clearInterval);
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sent, requests };
}

function* endless(): Generator<Buffer> {
  const chunk = Buffer.from(`{"a":"${'x'.repeat(64 * 1024)}"},`);
  yield Buffer.from('[');
  for (;;) yield chunk;
}

async function pour(res: ServerResponse, sent: { bytes: number }): Promise<void> {
  for (const chunk of endless()) {
    if (res.destroyed) return;
    sent.bytes += chunk.length;
    if (!res.write(chunk)) await new Promise<void>((resolve) => { res.once('drain', resolve); res.once('close', resolve); });
  }
}

describe('GitHub answers are bounded', () => {
  it('an endless JSON answer is refused once past maxResponseBytes, never retried', async () => {
    const peer = await api((_req, res, sent) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      void pour(res, sent);
    });
    const github = createGitHub({ repository: 'acme/platform', token: TOKEN, baseUrl: peer.url, maxResponseBytes: 4 * 1024 * 1024, retry: { sleep: async () => undefined } });
    await expect(github.listReleases()).rejects.toMatchObject({ name: 'GitHubRefusedError', code: 'E_GITHUB_TOO_LARGE', exitCode: 1 });
    expect(peer.requests).toHaveLength(1);
    expect(peer.sent.bytes).toBeLessThan(64 * 1024 * 1024);
  });

  it('an answer trickling one byte at a time fails each attempt at timeoutMs', async () => {
    const peer = await api((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(' ')), 20);
      res.on('close', () => clearInterval(timer));
    });
    const github = createGitHub({ repository: 'acme/platform', token: TOKEN, baseUrl: peer.url, timeoutMs: 300, retry: { attempts: 2, sleep: async () => undefined } });
    const started = performance.now();
    await expect(github.getReleaseByTag('api/v1.0.0')).rejects.toMatchObject({ code: 'E_GITHUB_NETWORK', message: expect.stringMatching(/no complete answer within 0.3 s/) });
    expect(performance.now() - started).toBeLessThan(2 * 300 + 700);
    expect(peer.requests).toHaveLength(2);
  });
});
