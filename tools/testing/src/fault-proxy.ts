import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * What can go wrong between a client and its upstream:
 * - `503`, `429` — answered by the proxy; the upstream never sees the request (`429` carries `Retry-After`);
 * - `reset` — the connection is destroyed before anything is forwarded;
 * - `lost` — forwarded, the upstream applied it and answered, then the client's connection is
 *   destroyed: the write happened, its response is lost;
 * - `slow` — forwarded; headers and body trickle back in small delayed pieces;
 * - `truncate` — forwarded; the headers (with the full Content-Length) and half the body are sent,
 *   then the connection is destroyed.
 */
export type FaultKind = '503' | '429' | 'reset' | 'lost' | 'slow' | 'truncate';

export const FAULT_KINDS: readonly FaultKind[] = ['503', '429', 'reset', 'lost', 'slow', 'truncate'];

export interface FaultSettings {
  /** Share of eligible requests that get a fault, 0..1. */
  rate: number;
  /** Faults to pick from, uniformly. Default: all of FAULT_KINDS. */
  kinds?: readonly FaultKind[];
  /**
   * Seeds the generator. Decisions are drawn per request in arrival order, so a client that
   * sends its requests one after another sees the same faults on every run with the same seed.
   */
  seed?: number;
  /** Which requests may get a fault; default every request. */
  match?: (request: { method: string; path: string }) => boolean;
  /** `Retry-After` of a `429`, in seconds. Default 0: tests honour it without waiting. */
  retryAfterSeconds?: number;
  /** `slow`: pause before the headers and between body pieces (default 5 ms), piece size (default 1024 bytes, at most 8 pieces). */
  slowDelayMs?: number;
  slowChunkBytes?: number;
}

export interface ProxiedRequest {
  method: string;
  /** Path and query as the client sent them. */
  path: string;
  fault: FaultKind | null;
  /** The upstream's status, when the request was forwarded and answered. */
  upstreamStatus: number | undefined;
}

export interface FaultStats {
  /** Every request, in arrival order. */
  readonly log: readonly ProxiedRequest[];
  /** Requests the upstream received. */
  readonly forwarded: number;
  readonly faults: Readonly<Record<FaultKind, number>>;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `127.0.0.1:<port>` */
  host: string;
  stats: FaultStats;
  /** Replace the fault settings (a new seed restarts the sequence); null stops injecting faults. */
  setFaults(faults: FaultSettings | null): void;
  /**
   * Holds the next request that matches before forwarding it, to force an interleaving without
   * sleeps: `arrived` resolves once it is held; `release()` lets it through.
   */
  hold(match: (request: { method: string; path: string }) => boolean): HeldRequest;
  /** Stop listening: connections are refused (ECONNREFUSED) and open ones are dropped, like a dead host. */
  down(): Promise<void>;
  /** Listen again on the same port. */
  up(): Promise<void>;
  stop(): Promise<void>;
}

export interface HeldRequest {
  /** Resolves when a matching request has arrived and is being held. */
  readonly arrived: Promise<void>;
  /** Forward the held request (or, if none arrived yet, stop waiting for one). */
  release(): void;
}

export interface StartFaultProxyOptions {
  /** The upstream, `http://127.0.0.1:<port>`. Requests keep their Host header, so upstream URLs name the proxy. */
  target: string;
  faults?: FaultSettings | null;
}

/** mulberry32: tiny, seedable, good enough to pick faults. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * An HTTP proxy on 127.0.0.1 that injects faults between a client (slipway) and a real peer
 * (the registry, the GitHub double). Bounded and loopback only.
 *
 *   const proxy = await startFaultProxy({ target: registry.url, faults: { rate: 0.25, seed: 7 } });
 *   onTestFinished(proxy.stop);
 */
export async function startFaultProxy(options: StartFaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  if (target.protocol !== 'http:') throw new Error(`startFaultProxy: the target must be http://, got ${options.target}`);
  let settings: FaultSettings | null = null;
  let random = generator(0);
  const log: ProxiedRequest[] = [];
  const faults: Record<FaultKind, number> = { '503': 0, '429': 0, reset: 0, lost: 0, slow: 0, truncate: 0 };
  let forwarded = 0;
  const sockets = new Set<Socket>();

  const setFaults = (next: FaultSettings | null): void => {
    if (next !== null && !(next.rate >= 0 && next.rate <= 1)) throw new Error(`fault rate must be within 0..1, got ${next.rate}`);
    if (next?.kinds?.length === 0) throw new Error('fault kinds must not be empty');
    settings = next;
    random = generator(next?.seed ?? 0);
  };
  setFaults(options.faults ?? null);

  const decide = (method: string, path: string): FaultKind | null => {
    const s = settings;
    if (s === null || s.rate === 0 || (s.match !== undefined && !s.match({ method, path }))) return null;
    const kinds = s.kinds ?? FAULT_KINDS;
    const hit = random() < s.rate;
    const pick = kinds[Math.floor(random() * kinds.length)] ?? kinds[0];
    return hit && pick !== undefined ? pick : null;
  };

  const holds: { match: (request: { method: string; path: string }) => boolean; arrive: () => void; released: Promise<void> }[] = [];

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const held = holds.findIndex((h) => h.match({ method, path }));
    if (held >= 0) {
      const [h] = holds.splice(held, 1);
      if (h) {
        req.pause();
        h.arrive();
        void h.released.then(() => forward(req, res, method, path));
        return;
      }
    }
    forward(req, res, method, path);
  };

  const forward = (req: IncomingMessage, res: ServerResponse, method: string, path: string): void => {
    const fault = decide(method, path);
    const entry: ProxiedRequest = { method, path, fault, upstreamStatus: undefined };
    log.push(entry);
    if (fault !== null) faults[fault]++;
    const s = settings;

    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault === '503' || fault === '429') {
      req.resume();
      req.on('end', () => {
        const body = JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: `fault proxy: injected ${fault}` }], message: `injected ${fault}` });
        const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) };
        if (fault === '429') headers['Retry-After'] = String(s?.retryAfterSeconds ?? 0);
        res.writeHead(Number(fault), headers);
        res.end(body);
      });
      return;
    }

    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method, path, headers: req.headers },
      (response) => {
        forwarded++;
        entry.upstreamStatus = response.statusCode;
        if (fault === null) {
          res.writeHead(response.statusCode ?? 502, response.rawHeaders);
          response.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const body = Buffer.concat(chunks);
          const noBody = method === 'HEAD' || body.length === 0;
          if (fault === 'lost' || (fault === 'truncate' && noBody)) {
            res.socket?.destroy();
            return;
          }
          if (fault === 'truncate') {
            res.writeHead(response.statusCode ?? 502, fixedLength(response, body.length));
            res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
            return;
          }
          void trickle(res, response, body, s ?? { rate: 0 });
        });
      },
    );
    upstream.on('error', (error) => {
      if (res.headersSent) {
        res.socket?.destroy();
        return;
      }
      res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end(`fault proxy: upstream ${target.host}: ${error.message}`);
    });
    req.pipe(upstream);
  };

  const server = createServer(handle);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A client that goes away mid-request is normal here (we cause it); never crash on it.
  server.on('clientError', (_error, socket) => socket.destroy());

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const close = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });

  await listen(0);
  const port = (server.address() as AddressInfo).port;
  let stopped = false;

  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    stats: {
      log,
      get forwarded() {
        return forwarded;
      },
      faults,
    },
    setFaults,
    hold(match) {
      let arrive = (): void => undefined;
      let release = (): void => undefined;
      const arrived = new Promise<void>((resolve) => (arrive = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      const entry = { match, arrive, released };
      holds.push(entry);
      return {
        arrived,
        release() {
          const waiting = holds.indexOf(entry);
          if (waiting >= 0) holds.splice(waiting, 1);
          release();
        },
      };
    },
    down: close,
    async up() {
      if (stopped) throw new Error('fault proxy: stopped');
      if (!server.listening) await listen(port);
    },
    async stop() {
      stopped = true;
      await close();
    },
  };
}

async function trickle(res: ServerResponse, response: IncomingMessage, body: Buffer, s: FaultSettings): Promise<void> {
  const delay = s.slowDelayMs ?? 5;
  const size = Math.max(1, s.slowChunkBytes ?? 1024);
  await wait(delay);
  if (res.destroyed) return;
  res.writeHead(response.statusCode ?? 502, fixedLength(response, body.length));
  let offset = 0;
  for (let piece = 0; offset < body.length && piece < 8; piece++) {
    res.write(body.subarray(offset, offset + size));
    offset += size;
    await wait(delay);
    if (res.destroyed) return;
  }
  res.end(offset < body.length ? body.subarray(offset) : undefined);
}

/** The upstream's headers, re-framed with a Content-Length for a body we hold in full. */
function fixedLength(response: IncomingMessage, length: number): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value === undefined || name === 'transfer-encoding' || name === 'content-length' || name === 'connection') continue;
    headers[name] = value;
  }
  headers['content-length'] = String(length);
  return headers;
}
