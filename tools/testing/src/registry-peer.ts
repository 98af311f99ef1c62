import { spawn } from 'node:child_process';
import { access, constants, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort, stopChild, waitUntilServing } from './peer-process.js';
import { startTokenIssuer, type TokenIssuer, type TokenIssuerOptions } from './token-issuer.js';

export type RegistryAuth = 'none' | 'htpasswd' | 'token';

export interface StartRegistryOptions {
  auth?: RegistryAuth;
  /**
   * Page size for `GET /v2/<name>/tags/list` when the client sends no `n` (GHCR pages at 100).
   * Distribution 2.8 never pages tag lists, so the peer's front proxy does it, the way the
   * distribution spec describes (`n`, `last`, `Link: <…>; rel="next"`, lexical order).
   */
  tagPageSize?: number;
  /** Token auth: requests without credentials get pull access. */
  anonymousPull?: boolean;
  /** Token auth: override which actions the issuer grants. */
  grant?: TokenIssuerOptions['grant'];
  /** The registry binary; default `$SLIPWAY_REGISTRY_BIN`, else `docker-registry` on PATH or in /usr/bin. */
  binary?: string;
}

export interface RecordedRequest {
  method: string;
  /** Path and query, as the client sent them. */
  path: string;
  status: number;
  /** Body bytes the client sent. */
  requestBytes: number;
  /** Body bytes sent back. */
  responseBytes: number;
  /** Answered by an injected fault rather than the registry. */
  fault: boolean;
}

export interface RegistryFault {
  method?: string;
  /** Matched against the path and query; a string matches as a substring. */
  path?: string | RegExp;
  /** How many matching requests this fault answers; default 1. */
  times?: number;
  /** Answer with this status (plus `headers`/`body`) instead of reaching the registry. */
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /**
   * Drop the connection: `before` the registry sees the request, or `after` it handled it
   * (the request took effect, its response is lost).
   */
  reset?: 'before' | 'after';
}

export interface RegistryPeer {
  /** `127.0.0.1:<port>`, the registry host for image references. */
  host: string;
  /** `http://127.0.0.1:<port>` */
  url: string;
  auth: RegistryAuth;
  /** Credentials accepted by htpasswd and token auth. */
  username?: string;
  password?: string;
  /** Token auth only. */
  tokenIssuer?: TokenIssuer;
  /** Every request that reached the registry's front door, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  clearRequests(): void;
  /** Make the next matching request(s) fail; faults are consumed in the order injected. */
  injectFault(fault: RegistryFault): void;
  /** Where the registry keeps its files (`docker/registry/v2/...`). */
  storageDir: string;
  stop(): Promise<void>;
}

export const TEST_REGISTRY_USER = 'slipway';
export const TEST_REGISTRY_PASSWORD = 'slipway-test-password';
// Distribution only accepts bcrypt in htpasswd files, and neither openssl nor node:crypto
// computes it; this is bcrypt(TEST_REGISTRY_PASSWORD) at cost 4 (cheap: the registry checks
// it on every request), made once with libxcrypt.
const TEST_REGISTRY_BCRYPT = '$2b$04$s2knIgvoLZdQ4m8P6JJ0yeAI.a5b9TqHi1.BrU5YRfX3sk/ARvE8C';
const SERVICE = 'slipway-test-registry';

/**
 * Starts the CNCF Distribution registry (Debian `docker-registry`) on 127.0.0.1 behind a small
 * front proxy that records requests, pages tag lists and injects faults. Throws (never skips)
 * when the binary is missing or the registry does not come up.
 */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<RegistryPeer> {
  const auth = options.auth ?? 'none';
  const binary = await findRegistryBinary(options.binary);
  const dir = await mkdtemp(join(tmpdir(), 'slipway-registry-'));
  const cleanups: (() => Promise<void>)[] = [() => rm(dir, { recursive: true, force: true })];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
  };
  try {
    let authConfig: unknown;
    let tokenIssuer: TokenIssuer | undefined;
    if (auth === 'htpasswd') {
      await writeFile(join(dir, 'htpasswd'), `${TEST_REGISTRY_USER}:${TEST_REGISTRY_BCRYPT}\n`);
      authConfig = { htpasswd: { realm: 'slipway-test', path: join(dir, 'htpasswd') } };
    } else if (auth === 'token') {
      const issuer = await startTokenIssuer({
        service: SERVICE,
        users: { [TEST_REGISTRY_USER]: TEST_REGISTRY_PASSWORD },
        ...(options.anonymousPull === undefined ? {} : { anonymousPull: options.anonymousPull }),
        ...(options.grant === undefined ? {} : { grant: options.grant }),
      });
      tokenIssuer = issuer;
      cleanups.push(() => issuer.stop());
      authConfig = { token: { realm: issuer.realm, service: issuer.service, issuer: issuer.issuer, rootcertbundle: issuer.rootCertBundle } };
    }

    const upstream = await startUpstream(binary, dir, authConfig);
    cleanups.push(upstream.stop);

    const requests: RecordedRequest[] = [];
    const faults: (RegistryFault & { left: number })[] = [];
    const server = createServer((req, res) => {
      const fault = takeFault(faults, req);
      forward(req, res, { upstreamPort: upstream.port, fault, tagPageSize: options.tagPageSize ?? 100, record: (r) => requests.push(r) });
    });
    // Port 0: a port picked beforehand could be taken by a parallel test before the bind.
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const frontHost = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    cleanups.push(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    return {
      host: frontHost,
      url: `http://${frontHost}`,
      auth,
      ...(auth === 'none' ? {} : { username: TEST_REGISTRY_USER, password: TEST_REGISTRY_PASSWORD }),
      ...(tokenIssuer === undefined ? {} : { tokenIssuer }),
      requests,
      clearRequests: () => void requests.splice(0),
      injectFault: (fault) => void faults.push({ ...fault, left: fault.times ?? 1 }),
      storageDir: join(dir, 'data'),
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

async function findRegistryBinary(explicit: string | undefined): Promise<string> {
  const candidates = (
    explicit !== undefined
      ? [explicit]
      : [
          process.env['SLIPWAY_REGISTRY_BIN'],
          ...(process.env['PATH'] ?? '').split(delimiter).map((d) => join(d, 'docker-registry')),
          '/usr/bin/docker-registry',
        ]
  ).filter((c): c is string => Boolean(c));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error(
    `the Distribution registry binary \`docker-registry\` was not found (looked at ${candidates.join(', ')}); ` +
      'install it with `apt-get install -y docker-registry`',
  );
}

async function startUpstream(binary: string, dir: string, authConfig: unknown): Promise<{ port: number; stop: () => Promise<void> }> {
  // A port found free can be taken before the registry binds it; try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    // JSON is YAML, and the registry reads YAML.
    const config = {
      version: 0.1,
      log: { level: 'error', accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: join(dir, 'data') }, delete: { enabled: true }, maintenance: { uploadpurging: { enabled: false } } },
      http: { addr: `127.0.0.1:${port}`, secret: 'slipway-test-http-secret' },
      ...(authConfig === undefined ? {} : { auth: authConfig }),
    };
    const configPath = join(dir, 'config.yml');
    await writeFile(configPath, JSON.stringify(config, null, 2));
    const child = spawn(binary, ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
    child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
    try {
      await waitUntilServing(child, { name: 'docker-registry', url: `http://127.0.0.1:${port}/v2/`, ready: [200, 401], timeoutMs: 20_000, pollMs: 25 }, () => output);
      return { port, stop: () => stopChild(child) };
    } catch (error) {
      lastError = error;
      await stopChild(child);
    }
  }
  throw lastError;
}

function takeFault(faults: (RegistryFault & { left: number })[], req: IncomingMessage): RegistryFault | undefined {
  const path = req.url ?? '/';
  const index = faults.findIndex(
    (f) =>
      (f.method === undefined || f.method.toUpperCase() === req.method) &&
      (f.path === undefined || (typeof f.path === 'string' ? path.includes(f.path) : f.path.test(path))),
  );
  if (index < 0) return undefined;
  const fault = faults[index] as RegistryFault & { left: number };
  if (--fault.left <= 0) faults.splice(index, 1);
  return fault;
}

interface ForwardOptions {
  upstreamPort: number;
  fault: RegistryFault | undefined;
  tagPageSize: number;
  record: (r: RecordedRequest) => void;
}

function forward(req: IncomingMessage, res: ServerResponse, options: ForwardOptions): void {
  const path = req.url ?? '/';
  const { fault } = options;
  let requestBytes = 0;
  let responseBytes = 0;
  let recorded = false;
  const record = (status: number) => {
    if (recorded) return;
    recorded = true;
    options.record({ method: req.method ?? 'GET', path, status, requestBytes, responseBytes, fault: fault !== undefined });
  };
  req.on('data', (chunk: Buffer) => (requestBytes += chunk.length));

  if (fault?.reset === 'before') {
    req.resume();
    req.on('end', () => {
      record(0);
      req.socket.destroy();
    });
    return;
  }
  if (fault?.status !== undefined) {
    req.resume();
    req.on('end', () => {
      const body = fault.body ?? '';
      responseBytes = Buffer.byteLength(body);
      res.writeHead(fault.status as number, { 'Content-Type': 'application/json', 'Content-Length': String(responseBytes), ...fault.headers });
      res.end(body);
      record(fault.status as number);
    });
    return;
  }

  const pathname = new URL(path, 'http://peer').pathname;
  const pageTags = req.method === 'GET' && /^\/v2\/.+\/tags\/list$/.test(pathname);
  const upstreamPath = pageTags ? pathname : path;
  const upstream = httpRequest(
    { host: '127.0.0.1', port: options.upstreamPort, method: req.method, path: upstreamPath, headers: req.headers },
    (upstreamResponse) => {
      if (fault?.reset === 'after') {
        upstreamResponse.resume();
        upstreamResponse.on('end', () => {
          record(0);
          res.socket?.destroy();
        });
        return;
      }
      if (pageTags && upstreamResponse.statusCode === 200) {
        const chunks: Buffer[] = [];
        upstreamResponse.on('data', (chunk: Buffer) => chunks.push(chunk));
        upstreamResponse.on('end', () => {
          const page = pageTagList(Buffer.concat(chunks), path, options.tagPageSize);
          const body = Buffer.from(JSON.stringify(page.body));
          responseBytes = body.length;
          const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(body.length) };
          if (page.next !== undefined) headers['Link'] = `<${page.next}>; rel="next"`;
          res.writeHead(200, headers);
          res.end(body);
          record(200);
        });
        return;
      }
      res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
      upstreamResponse.on('data', (chunk: Buffer) => (responseBytes += chunk.length));
      upstreamResponse.pipe(res);
      res.on('finish', () => record(upstreamResponse.statusCode ?? 502));
    },
  );
  upstream.on('error', (error) => {
    if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
    res.end(`peer proxy: ${error.message}`);
    record(502);
  });
  req.pipe(upstream);
}

function pageTagList(raw: Buffer, path: string, defaultSize: number): { body: { name: string; tags: string[] }; next?: string } {
  const parsed = JSON.parse(raw.toString('utf8')) as { name: string; tags: string[] | null };
  const url = new URL(path, 'http://peer');
  const n = url.searchParams.has('n') ? Number(url.searchParams.get('n')) : defaultSize;
  const last = url.searchParams.get('last');
  const all = [...(parsed.tags ?? [])].sort();
  const rest = last === null ? all : all.filter((t) => t > last);
  const tags = rest.slice(0, Math.max(0, n));
  const body = { name: parsed.name, tags };
  if (rest.length <= tags.length || tags.length === 0) return { body };
  const next = new URLSearchParams({ n: String(n), last: tags[tags.length - 1] as string });
  return { body, next: `${url.pathname}?${next.toString()}` };
}
