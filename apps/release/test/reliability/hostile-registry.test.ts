import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { makeTestImage, writeTestLayout } from '@slipway/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { REPOSITORY, releaseWorkspace } from '../fixtures.js';
import { runCli, type CliRun } from '../run-cli.js';

// A server posing as a registry answers with wrong digests, wrong media types, huge bodies, and
// URLs (Link, Location, redirects, token realms) naming other hosts. slipway must answer with a
// typed error (exit 1 or 2), write nothing, and never contact a host nobody configured: two such
// hosts (127.0.0.2, and 127.0.0.1 on another port) listen and must receive nothing.

const SECRET = 'hostile-test-registry-password-6f1d';
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const sha256 = (bytes: string | Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const MANIFEST = JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST_TYPE, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256('{}'), size: 2 }, layers: [] });
const ZEROS = `sha256:${'0'.repeat(64)}`;
const MiB = 1024 * 1024;

type Handler = (req: IncomingMessage, res: ServerResponse, server: Peer) => void | Promise<void>;

interface Peer {
  host: string;
  url: string;
  requests: { method: string; path: string; authorization: string | undefined }[];
  /** Body bytes this server managed to send. */
  bytesSent: number;
  handler: Handler;
}

async function peer(address: string, handler: Handler = (_req, res) => void res.writeHead(500).end()): Promise<Peer> {
  const state: Peer = { host: '', url: '', requests: [], bytesSent: 0, handler };
  const server = createServer((req, res) => {
    state.requests.push({ method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization });
    req.resume();
    req.on('end', () => {
      Promise.resolve(state.handler(req, res, state)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  onTestFinished(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  state.host = `${address}:${(server.address() as AddressInfo).port}`;
  state.url = `http://${state.host}`;
  return state;
}

/** Streams `total` bytes (or forever when undefined) with backpressure, stopping when the client goes away. */
async function stream(res: ServerResponse, state: Peer, total: number | undefined): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024, 0x7b);
  while ((total === undefined || state.bytesSent < total) && !res.destroyed) {
    const ok = res.write(chunk);
    state.bytesSent += chunk.length;
    if (!ok) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  }
  if (!res.destroyed) res.end();
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)), ...headers }).end(text);
}

/** A 200 HEAD that leaves out Docker-Content-Digest, so the client must GET the manifest. */
function untrustedHead(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'HEAD') return false;
  res.writeHead(200, { 'Content-Type': MANIFEST_TYPE, 'Content-Length': '10' }).end();
  return true;
}

interface Setup {
  hostile: Peer;
  elsewhere: Peer[];
  dir: string;
  env: NodeJS.ProcessEnv;
  run(argv: string[]): Promise<CliRun>;
}

/** A folder with services.json naming the hostile registry (insecure: http), and docker credentials for it. */
async function setup(): Promise<Setup> {
  const hostile = await peer('127.0.0.1');
  const elsewhere = [await peer('127.0.0.2'), await peer('127.0.0.1')];
  const dir = await mkdtemp(join(tmpdir(), 'slipway-hostile-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'services.json'), JSON.stringify({ registry: `${hostile.host}/acme`, insecureRegistries: [hostile.host], services: { api: { root: 'apps/api' } } }));
  await mkdir(join(dir, 'docker'));
  await writeFile(join(dir, 'docker', 'config.json'), JSON.stringify({ auths: { [hostile.host]: { auth: Buffer.from(`ci:${SECRET}`).toString('base64') } } }));
  const env = { PATH: process.env['PATH'], NO_COLOR: '1', HOME: dir, DOCKER_CONFIG: join(dir, 'docker') };
  return { hostile, elsewhere, dir, env, run: (argv) => runCli([...argv, '--json'], { cwd: dir, env }) };
}

/** Typed failure, nothing written, nobody else contacted, and the password nowhere in the output. */
function expectRefused(s: Setup, run: CliRun, exitCodes: number[], code?: string | RegExp): string {
  expect(exitCodes, run.stdout + run.stderr).toContain(run.exitCode);
  const error = (JSON.parse(run.stdout) as { error: { code: string; message: string } }).error;
  expect(error.code).toMatch(/^E_[A-Z_]+$/);
  expect(error.code).not.toMatch(/^E_(INTERNAL|SYSTEM_)/);
  if (code !== undefined) expect(error.code).toMatch(code);
  expect(s.hostile.requests.filter((r) => ['PUT', 'PATCH', 'DELETE'].includes(r.method))).toEqual([]);
  for (const other of s.elsewhere) expect(other.requests, other.host).toEqual([]);
  expect(run.stdout + run.stderr).not.toContain(SECRET);
  return error.message;
}

const other = (s: Setup, i = 0) => s.elsewhere[i] as Peer;

describe('a hostile registry', () => {
  it.each<[string, (s: Setup) => Handler, (s: Setup) => string[], string | RegExp, number[]]>([
    [
      'a tag whose manifest does not hash to the digest the registry announces',
      () => (req, res) => void (untrustedHead(req, res) || res.writeHead(200, { 'Content-Type': MANIFEST_TYPE, 'Docker-Content-Digest': ZEROS }).end(MANIFEST)),
      (s) => ['image', 'resolve', `${s.hostile.host}/acme/api:v1`],
      'E_DIGEST_MISMATCH',
      [1],
    ],
    [
      'a digest reference answered with other content',
      () => (req, res) => {
        if (req.method === 'HEAD') return void res.writeHead(200, { 'Content-Type': MANIFEST_TYPE, 'Docker-Content-Digest': sha256(MANIFEST), 'Content-Length': '10' }).end();
        res.writeHead(200, { 'Content-Type': MANIFEST_TYPE }).end(MANIFEST);
      },
      (s) => ['image', 'resolve', `${s.hostile.host}/acme/api@${ZEROS}`],
      'E_DIGEST_MISMATCH',
      [1],
    ],
    [
      'an HTML page served as the manifest',
      () => (req, res) => void (untrustedHead(req, res) || res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html><body>login</body></html>')),
      (s) => ['image', 'resolve', `${s.hostile.host}/acme/api:v1`],
      'E_REGISTRY_PROTOCOL',
      [1],
    ],
    [
      'a 50 MB manifest announced by Content-Length',
      () => async (req, res, state) => {
        if (untrustedHead(req, res)) return;
        res.writeHead(200, { 'Content-Type': MANIFEST_TYPE, 'Content-Length': String(50 * MiB) });
        await stream(res, state, 50 * MiB);
      },
      (s) => ['image', 'resolve', `${s.hostile.host}/acme/api:v1`],
      'E_REGISTRY_PROTOCOL',
      [1],
    ],
    [
      'an endless manifest without Content-Length',
      () => async (req, res, state) => {
        if (untrustedHead(req, res)) return;
        res.writeHead(200, { 'Content-Type': MANIFEST_TYPE });
        await stream(res, state, undefined);
      },
      (s) => ['image', 'resolve', `${s.hostile.host}/acme/api:v1`],
      'E_REGISTRY_PROTOCOL',
      [1],
    ],
    [
      'an endless tag list',
      () => async (_req, res, state) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        await stream(res, state, undefined);
      },
      (s) => ['image', 'tags', `${s.hostile.host}/acme/api`],
      'E_REGISTRY_PROTOCOL',
      [1],
    ],
    [
      'a tag list whose next page is on another host',
      (s) => (_req, res) => json(res, 200, { name: 'acme/api', tags: ['v1'] }, { Link: `<${other(s).url}/v2/acme/api/tags/list?last=v1>; rel="next"` }),
      (s) => ['image', 'tags', `${s.hostile.host}/acme/api`],
      'E_REGISTRY_UNSAFE_URL',
      [1],
    ],
    [
      'a tag list whose next page is on another port of the same address',
      (s) => (_req, res) => json(res, 200, { name: 'acme/api', tags: ['v1'] }, { Link: `<${other(s, 1).url}/v2/acme/api/tags/list?last=v1>; rel="next"` }),
      (s) => ['image', 'tags', `${s.hostile.host}/acme/api`],
      'E_REGISTRY_UNSAFE_URL',
      [1],
    ],
    [
      'a tag list whose next page is itself',
      () => (req, res) => json(res, 200, { name: 'acme/api', tags: ['v1'] }, { Link: `<${req.url ?? ''}>; rel="next"` }),
      (s) => ['image', 'tags', `${s.hostile.host}/acme/api`],
      'E_REGISTRY_PROTOCOL',
      [1],
    ],
    [
      'a tag list that is not JSON',
      () => (_req, res) => void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"tags": ["v1",'),
      (s) => ['image', 'tags', `${s.hostile.host}/acme/api`],
      'E_REGISTRY_PROTOCOL',
      [1],
    ],
    [
      'a manifest redirected to another host',
      (s) => (_req, res) => void res.writeHead(302, { Location: `${other(s).url}/v2/acme/api/manifests/v1` }).end(),
      (s) => ['image', 'resolve', `${s.hostile.host}/acme/api:v1`],
      'E_REGISTRY_UNSAFE_URL',
      [1],
    ],
    [
      'a plain-http token realm on another host (credentials would travel in clear to it)',
      (s) => (_req, res) => void res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="${other(s).url}/token",service="registry"` }).end(),
      (s) => ['image', 'resolve', `${s.hostile.host}/acme/api:v1`],
      'E_REGISTRY_UNSAFE_URL',
      [1],
    ],
    [
      'a token realm carrying credentials in its URL',
      (s) => (_req, res) => void res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://u:p@${other(s).host}/token",service="registry"` }).end(),
      (s) => ['image', 'resolve', `${s.hostile.host}/acme/api:v1`],
      'E_REGISTRY_UNSAFE_URL',
      [1],
    ],
    [
      'a token realm that is not a URL',
      () => (_req, res) => void res.writeHead(401, { 'WWW-Authenticate': 'Bearer realm="::not a url::",service="registry"' }).end(),
      (s) => ['image', 'resolve', `${s.hostile.host}/acme/api:v1`],
      'E_REGISTRY_PROTOCOL',
      [1],
    ],
    [
      'a Basic challenge that refuses every answer',
      () => (_req, res) => void res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="registry"' }).end(),
      (s) => ['image', 'resolve', `${s.hostile.host}/acme/api:v1`],
      'E_REGISTRY_UNAUTHORIZED',
      [1],
    ],
    [
      'an upload session whose Location is on another host',
      (s) => (req, res) => {
        if (req.method === 'POST') return void res.writeHead(202, { Location: `${other(s).url}/v2/acme/api/blobs/uploads/steal`, 'Content-Length': '0' }).end();
        res.writeHead(404, { 'Content-Length': '0' }).end();
      },
      (s) => ['image', 'copy', `oci-layout:${join(s.dir, 'layout')}/api:v1`, `${s.hostile.host}/acme/api:v1`],
      'E_REGISTRY_UNSAFE_URL',
      [1],
    ],
  ])('%s: typed error, no write, no other host contacted', async (_what, handler, argv, code, exitCodes) => {
    const s = await setup();
    await writeTestLayout(join(s.dir, 'layout', 'api'), makeTestImage(), 'v1');
    s.hostile.handler = handler(s);
    const started = Date.now();
    const run = await s.run(argv(s));
    expectRefused(s, run, exitCodes, code);
    expect(Date.now() - started).toBeLessThan(20_000);
    // Nothing buffered without bound: the client stopped reading soon after its 4 MiB (manifests) or 64 MiB (tag lists) cap.
    expect(s.hostile.bytesSent).toBeLessThan(80 * MiB);
    if (_what.includes('manifest')) expect(s.hostile.bytesSent).toBeLessThan(12 * MiB);
  });

  it('publish against a registry that lies about the existing tag: exit 1, nothing pushed, no release', async () => {
    const hostile = await peer('127.0.0.1', (req, res) => void (untrustedHead(req, res) || res.writeHead(200, { 'Content-Type': MANIFEST_TYPE, 'Docker-Content-Digest': ZEROS }).end(MANIFEST)));
    const ws = await releaseWorkspace();
    await ws.repo.commit('chore: hostile registry', {
      'services.json': JSON.stringify({ repository: REPOSITORY, registry: `${hostile.host}/acme`, insecureRegistries: [hostile.host], services: { api: { root: 'apps/api', build: { type: 'layer', from: 'scratch', dir: 'apps/api', entrypoint: ['node'] } } } }),
    });
    await ws.repo.push('main');
    await ws.tagRelease('api/v1.0.0');
    const run = await runCli(['publish', 'api/v1.0.0', '--json'], { cwd: ws.repo.dir, env: ws.env });
    expect(run.exitCode, run.stdout).toBe(1);
    expect(JSON.parse(run.stdout).error.code).toBe('E_DIGEST_MISMATCH');
    expect(hostile.requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD')).toEqual([]);
    expect(ws.github.repo(REPOSITORY).releases).toEqual([]);
  });

  it('fuzzed answers to resolve and tag listing: a result or a typed error, never a write or another host', async () => {
    const s = await setup();
    const answer = fc.record({
      status: fc.constantFrom(200, 200, 201, 204, 301, 302, 307, 400, 401, 403, 404, 405, 416, 429, 500, 503),
      contentType: fc.constantFrom(MANIFEST_TYPE, 'application/vnd.oci.image.index.v1+json', 'application/json', 'text/html', '', 'application/vnd.docker.distribution.manifest.v2+json; charset=utf-8'),
      digest: fc.option(fc.constantFrom(ZEROS, sha256(MANIFEST), 'sha256:zz', '../../etc/passwd', ''), { nil: undefined }),
      body: fc.oneof(fc.constant(MANIFEST), fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)), fc.string({ maxLength: 40 }), fc.constant('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"x"}]}')),
      location: fc.option(fc.constantFrom('/v2/acme/api/manifests/v2', 'OTHER', 'http://[::1', 'ftp://x/y'), { nil: undefined }),
      link: fc.option(fc.constantFrom('</v2/acme/api/tags/list?last=z>; rel="next"', '<OTHER>; rel="next"', 'garbage', '<>; rel=next'), { nil: undefined }),
      challenge: fc.option(fc.constantFrom('Basic realm="x"', 'Bearer realm="OTHER/token"', 'Bearer realm=""', 'Bearer', 'Negotiate', 'Bearer realm="http://u:p@OTHER/t"'), { nil: undefined }),
      contentLength: fc.option(fc.constantFrom('0', '-1', '999999999999', 'abc'), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(answer, fc.constantFrom('resolve-tag', 'resolve-digest', 'tags'), async (a, command) => {
        s.hostile.requests.length = 0;
        for (const o of s.elsewhere) o.requests.length = 0;
        const otherUrl = other(s).url;
        s.hostile.handler = (req, res) => {
          const headers: Record<string, string> = { 'Retry-After': '0' };
          if (a.contentType) headers['Content-Type'] = a.contentType;
          if (a.digest !== undefined) headers['Docker-Content-Digest'] = a.digest;
          if (a.location !== undefined) headers['Location'] = a.location.replace('OTHER', otherUrl);
          if (a.link !== undefined) headers['Link'] = a.link.replace('OTHER', `${otherUrl}/v2/acme/api/tags/list`);
          if (a.challenge !== undefined) headers['WWW-Authenticate'] = a.challenge.replace('OTHER', otherUrl).replace('http://u:p@http://', 'http://u:p@');
          const body = a.status === 204 || req.method === 'HEAD' ? '' : a.body;
          // A lying Content-Length can only be sent without a body to contradict it.
          if (a.contentLength !== undefined && body === '') headers['Content-Length'] = a.contentLength;
          try {
            res.writeHead(a.status, headers).end(body);
          } catch {
            res.destroy();
          }
        };
        const argv =
          command === 'tags'
            ? ['image', 'tags', `${s.hostile.host}/acme/api`]
            : ['image', 'resolve', command === 'resolve-tag' ? `${s.hostile.host}/acme/api:v1` : `${s.hostile.host}/acme/api@${sha256(MANIFEST)}`];
        const run = await s.run(argv);
        if (run.exitCode === 0) {
          expect(s.hostile.requests.filter((r) => ['PUT', 'PATCH', 'DELETE', 'POST'].includes(r.method))).toEqual([]);
          for (const o of s.elsewhere) expect(o.requests).toEqual([]);
          // Anything resolved by digest is that digest: content was checked, not trusted.
          if (command === 'resolve-digest') expect(JSON.parse(run.stdout).digest).toBe(sha256(MANIFEST));
        } else {
          expectRefused(s, run, [1, 2]);
        }
      }),
      { numRuns: Number(process.env['SLIPWAY_FUZZ_RUNS'] ?? 120) },
    );
  });
});
