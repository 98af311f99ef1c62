import { spawn } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { devNull } from 'node:os';
import type { AddressInfo } from 'node:net';

/**
 * A peer on loopback that git can be pointed at (`http://127.0.0.1:<port>/…`, `ssh://…`) and that
 * never lets a command finish:
 * - `silent` accepts each connection and never sends a byte;
 * - `trickle` answers an HTTP request with complete headers at once, then one body byte every
 *   `intervalMs`, forever (never idle long enough for an idle timeout).
 * It counts connections and knows which are still open: once a client gives up, every one of its
 * processes (git, git-remote-http) must have let go of its socket.
 */
export interface HostileGitPeer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** Connections accepted so far. */
  connections(): number;
  /** Connections still open. */
  open(): number;
  /** Resolves once no connection is open, or rejects after `ms`. */
  drained(ms: number): Promise<void>;
  close(): Promise<void>;
}

export interface HostileGitPeerOptions {
  mode: 'silent' | 'trickle';
  /** `trickle`: pause between body bytes (default 1000 ms). */
  intervalMs?: number;
}

export async function startHostileGitPeer(options: HostileGitPeerOptions): Promise<HostileGitPeer> {
  const sockets = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setInterval>>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    if (options.mode === 'silent') {
      // Read (and drop) what arrives, so the client closing its end is seen.
      socket.resume();
      return;
    }
    let answered = false;
    socket.on('data', () => {
      // The request is read and ignored; the answer starts once it has begun to arrive.
      if (answered) return;
      answered = true;
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/x-git-upload-pack-advertisement\r\nCache-Control: no-cache\r\n\r\n');
      const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write('0')), options.intervalMs ?? 1000);
      timers.add(timer);
      socket.on('close', () => clearInterval(timer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    connections: () => accepted,
    open: () => sockets.size,
    async drained(ms) {
      const until = Date.now() + ms;
      while (sockets.size > 0) {
        if (Date.now() > until) throw new Error(`${sockets.size} connection(s) to the hostile peer still open after ${ms} ms`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async close() {
      for (const timer of timers) clearInterval(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface GitHttpServerOptions {
  /** Folder holding the bare repositories served: `<url>/<path under root>`. */
  root: string;
  /**
   * Requests for which to answer nothing at all, ever (the connection stays open), e.g. every
   * `git-receive-pack` request: fetches work, pushes hang. Settable later through `hang`.
   */
  hang?: (request: { method: string; path: string }) => boolean;
}

export interface GitHttpServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** Requests seen, as `METHOD /path?query`. */
  readonly requests: string[];
  hang: ((request: { method: string; path: string }) => boolean) | undefined;
  /** Connections still open. */
  open(): number;
  /** Resolves once no connection is open, or rejects after `ms`. */
  drained(ms: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * git's smart HTTP protocol on loopback, served by `git http-backend` (CGI) over the bare
 * repositories under `root`, pushes allowed, with a switch to make chosen requests hang.
 */
export async function startGitHttpServer(options: GitHttpServerOptions): Promise<GitHttpServer> {
  const sockets = new Set<Socket>();
  const requests: string[] = [];
  const state: { hang: GitHttpServer['hang'] } = { hang: options.hang };
  const server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    requests.push(`${method} ${url.pathname}${url.search}`);
    if (state.hang?.({ method, path: `${url.pathname}${url.search}` })) {
      req.resume();
      return;
    }
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env['PATH'],
        GIT_PROJECT_ROOT: options.root,
        GIT_HTTP_EXPORT_ALL: '1',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: devNull,
        REMOTE_USER: 'tester',
        REQUEST_METHOD: method,
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    req.pipe(cgi.stdin);
    cgi.stdin.on('error', () => undefined);
    let head = Buffer.alloc(0);
    let started = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (started) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      started = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else res.setHeader(name, value);
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    cgi.on('close', () => (started ? res.end() : res.writeHead(500).end()));
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get hang() {
      return state.hang;
    },
    set hang(value) {
      state.hang = value;
    },
    open: () => sockets.size,
    async drained(ms) {
      const until = Date.now() + ms;
      // Idle keep-alive connections of finished requests are not a client's process.
      server.closeIdleConnections();
      while (sockets.size > 0) {
        if (Date.now() > until) throw new Error(`${sockets.size} connection(s) to the git server still open after ${ms} ms`);
        await new Promise((resolve) => setTimeout(resolve, 25));
        server.closeIdleConnections();
      }
    },
    async close() {
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
