import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { freePort, stopChild, waitUntilServing } from './peer-process.js';

export interface VerdaccioRequest {
  method: string;
  /** Path and query, as the client sent them (`/@acme%2fcli`). */
  url: string;
  status: number;
}

export interface VerdaccioPeer {
  /** `http://127.0.0.1:<port>/` — the registry URL npm expects (with the trailing slash). */
  url: string;
  /** `127.0.0.1:<port>` */
  host: string;
  /** A bearer token of {@link username}, who may publish every package. */
  token: string;
  username: string;
  /** Every request verdaccio logged, in the order it finished them. */
  readonly requests: readonly VerdaccioRequest[];
  clearRequests(): void;
  /** Where verdaccio keeps packages (one folder per package). */
  storageDir: string;
  stop(): Promise<void>;
}

export const TEST_NPM_USER = 'slipway';
const TEST_NPM_PASSWORD = 'slipway-npm-test-password';

/**
 * Starts a real verdaccio 5 on 127.0.0.1 with no uplinks (it never reaches the public registry),
 * storage and an htpasswd file in a temp folder, anyone may read, authenticated users publish.
 * Creates one user and returns its token. Throws (never skips) when verdaccio is missing or does
 * not come up.
 */
export async function startVerdaccio(): Promise<VerdaccioPeer> {
  const bin = await findVerdaccio();
  const dir = await mkdtemp(join(tmpdir(), 'slipway-verdaccio-'));
  let child: ChildProcess | undefined;
  const stop = async () => {
    if (child) await stopChild(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const storageDir = join(dir, 'storage');
    const requests: VerdaccioRequest[] = [];
    let lastError: unknown;
    // A port found free can be taken before verdaccio binds it; try a few.
    for (let attempt = 0; attempt < 3 && child === undefined; attempt++) {
      const port = await freePort();
      const config = {
        storage: storageDir,
        auth: { htpasswd: { file: join(dir, 'htpasswd'), max_users: 100 } },
        uplinks: {},
        packages: { '**': { access: '$all', publish: '$authenticated', unpublish: '$authenticated' } },
        web: { enable: false },
        // JSON lines at http level: one line per request, parsed into `requests`.
        log: { type: 'stdout', format: 'json', level: 'http' },
      };
      // JSON is YAML, and verdaccio reads YAML.
      const configPath = join(dir, 'config.yaml');
      await writeFile(configPath, JSON.stringify(config, null, 2));
      const started = spawn(process.execPath, [bin, '--config', configPath, '--listen', `127.0.0.1:${port}`], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env['PATH'] ?? '', HOME: dir, NODE_ENV: 'production' },
      });
      const output = captureOutput(started, requests);
      try {
        await waitUntilServing(started, { name: 'verdaccio', url: `http://127.0.0.1:${port}/-/ping`, ready: [200], timeoutMs: 30_000, pollMs: 50 }, output);
        child = started;
        const token = await createUser(port);
        const host = `127.0.0.1:${port}`;
        return {
          url: `http://${host}/`,
          host,
          token,
          username: TEST_NPM_USER,
          requests,
          clearRequests: () => void requests.splice(0),
          storageDir,
          stop,
        };
      } catch (error) {
        lastError = error;
        await stopChild(started);
        child = undefined;
        if (error instanceof UserError) break;
      }
    }
    throw lastError;
  } catch (error) {
    await stop();
    throw error;
  }
}

class UserError extends Error {}

async function findVerdaccio(): Promise<string> {
  const require = createRequire(import.meta.url);
  let manifestPath: string;
  try {
    manifestPath = require.resolve('verdaccio/package.json');
  } catch (cause) {
    throw new Error('verdaccio is not installed: it is a dependency of @slipway/testing ("verdaccio": "5.x"); run `npm install` at the workspace root', {
      cause,
    });
  }
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { version: string; bin?: string | Record<string, string> };
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.['verdaccio'];
  if (!bin) throw new Error(`verdaccio ${manifest.version} at ${dirname(manifestPath)} declares no "verdaccio" bin`);
  return resolve(dirname(manifestPath), bin);
}

function captureOutput(child: ChildProcess, requests: VerdaccioRequest[]): () => string {
  let tail = '';
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    tail = (tail + text).slice(-4000);
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) recordRequest(line, requests);
  });
  child.stderr?.on('data', (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-4000)));
  return () => tail;
}

// Verdaccio logs a request when it arrives (`req`) and its answer (`request`, `status`), the
// answer sometimes twice: count arrivals, take the status from the last answer for that URL.
function recordRequest(line: string, requests: VerdaccioRequest[]): void {
  if (!line.startsWith('{')) return;
  let entry: { req?: { method?: unknown; url?: unknown }; request?: { method?: unknown; url?: unknown }; status?: unknown };
  try {
    entry = JSON.parse(line) as typeof entry;
  } catch {
    return;
  }
  if (typeof entry.req?.method === 'string' && typeof entry.req.url === 'string') {
    requests.push({ method: entry.req.method, url: entry.req.url, status: 0 });
    return;
  }
  const { request, status } = entry;
  if (typeof request?.method !== 'string' || typeof request.url !== 'string' || typeof status !== 'number') return;
  const match = requests.findLast((r) => r.method === request.method && r.url === request.url);
  if (match) match.status = status;
}

async function createUser(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/-/user/org.couchdb.user:${TEST_NPM_USER}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: TEST_NPM_USER, password: TEST_NPM_PASSWORD, type: 'user', roles: [], date: new Date().toISOString() }),
  });
  const body = (await response.json().catch(() => ({}))) as { token?: string; error?: string };
  if (response.status !== 201 || typeof body.token !== 'string') {
    throw new UserError(`verdaccio did not create the test user (HTTP ${response.status}: ${body.error ?? 'no token in the answer'})`);
  }
  return body.token;
}

