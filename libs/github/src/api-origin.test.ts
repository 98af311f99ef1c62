import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGitHubDouble } from '@slipway/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createGitHub } from './create-github.js';

// The GitHub double behind a front that rewrites what it answers: `Link: rel="next"` and
// redirects naming another origin (127.0.0.2, a trap that records what reaches it). The token is
// for the configured API origin only.

const TOKEN = 'ghs_apiOriginTest0123456789abcdefABCDEF';

interface Trap {
  url: string;
  requests: { path: string; authorization: string | undefined }[];
}

async function listen(server: ReturnType<typeof createServer>, address: string): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  onTestFinished(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://${address}:${(server.address() as AddressInfo).port}`;
}

async function trap(): Promise<Trap> {
  const requests: Trap['requests'] = [];
  const server = createServer((req, res) => {
    requests.push({ path: req.url ?? '', authorization: req.headers.authorization });
    res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"message":"Not Found"}');
  });
  return { url: await listen(server, '127.0.0.2'), requests };
}

/** Forwards to the double; `rewrite` may answer instead, or change the upstream's headers. */
async function front(
  upstream: string,
  rewrite: (req: IncomingMessage, res: ServerResponse) => boolean,
  headers: (req: IncomingMessage, upstreamHeaders: Record<string, string | string[] | undefined>) => void = () => undefined,
): Promise<string> {
  const target = new URL(upstream);
  const server = createServer((req, res) => {
    if (rewrite(req, res)) return;
    const forward = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      const copy = { ...answer.headers };
      headers(req, copy);
      res.writeHead(answer.statusCode ?? 502, copy);
      answer.pipe(res);
    });
    req.pipe(forward);
  });
  return listen(server, '127.0.0.1');
}

describe('the GitHub token stays on the configured API origin', () => {
  it('refuses a pagination Link to another host, sending it nothing', async () => {
    const double = await startGitHubDouble({ tokens: [TOKEN] });
    onTestFinished(double.close);
    const elsewhere = await trap();
    const url = await front(
      double.url,
      () => false,
      (req, h) => {
        if (req.url?.includes('/releases')) h['link'] = `<${elsewhere.url}/repos/acme/platform/releases?per_page=100&page=2>; rel="next"`;
      },
    );
    const github = createGitHub({ repository: 'acme/platform', token: TOKEN, baseUrl: url, retry: { sleep: async () => undefined } });
    await github.createRelease({ tag: 'api/v1.0.0', name: 'api v1.0.0', body: '', prerelease: false, makeLatest: 'false', targetCommitish: 'a'.repeat(40) });

    const error = await github.listReleases().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'GitHubRefusedError', code: 'E_GITHUB_UNSAFE_URL', exitCode: 1 });
    expect((error as Error).message).toContain('127.0.0.2');
    expect((error as Error).message).not.toContain(TOKEN);
    expect(elsewhere.requests).toEqual([]);
  });

  it('follows a redirect to another origin without the token, and keeps it on the API origin', async () => {
    const double = await startGitHubDouble({ tokens: [TOKEN] });
    onTestFinished(double.close);
    const elsewhere = await trap();
    const url = await front(double.url, (req, res) => {
      const moved = req.url?.includes('/releases/tags/moved') ? `${elsewhere.url}/moved` : req.url?.includes('/releases/tags/here') ? '/repos/acme/platform/releases/tags/api%2Fv1.0.0' : undefined;
      if (moved === undefined) return false;
      res.writeHead(307, { Location: moved }).end();
      return true;
    });
    const github = createGitHub({ repository: 'acme/platform', token: TOKEN, baseUrl: url, retry: { sleep: async () => undefined } });
    await github.createRelease({ tag: 'api/v1.0.0', name: 'api v1.0.0', body: '', prerelease: false, makeLatest: 'false', targetCommitish: 'a'.repeat(40) });

    expect(await github.getReleaseByTag('moved')).toBeUndefined();
    expect(elsewhere.requests).toEqual([{ path: '/moved', authorization: undefined }]);
    // The same origin: the double accepts the token only, so this finding the release proves it went along.
    expect(await github.getReleaseByTag('here')).toMatchObject({ tag: 'api/v1.0.0' });
  });

  it('keeps userinfo in GITHUB_API_URL out of requests and errors', async () => {
    const double = await startGitHubDouble({ tokens: [TOKEN] });
    onTestFinished(double.close);
    const withUserinfo = double.url.replace('http://', 'http://enterprise:s3cret-api-password@');
    const github = createGitHub({ repository: 'acme/platform', token: 'ghs_wrongToken0123456789abcdefABCDEF', baseUrl: withUserinfo, retry: { attempts: 1 } });
    const error = await github.listReleases().catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 401 });
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain('s3cret-api-password');
  });
});
