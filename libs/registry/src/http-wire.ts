// One HTTP exchange on the wire, and nothing else: no auth, no redirects, no retries, no limits,
// no timers. RegistryTransport makes every decision (which Authorization goes where, which
// redirect is followed, how long anything may take, how much is read) and talks to a registry
// through a `Wire`. Two of them: node:http/https (the default: Node streams end to end, so a blob's
// bytes go from one socket through the hash into another with no web streams between, and the
// process never loads undici, whose fetch costs ~40 MiB of RSS on its first request), and a
// caller's `fetch` (RegistryClientOptions.fetch).

import { globalAgent as httpGlobalAgent, request as httpRequest, type Agent as HttpAgent, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, globalAgent as httpsGlobalAgent, request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';

export interface WireRequest {
  method: string;
  headers: Record<string, string>;
  /**
   * Bytes in memory, or a body sent as it is read. A streamed body is read one piece at a time,
   * the next only once the peer has taken the previous one (the time in between is the peer's);
   * when the peer answers before the end, the rest is not read. Its failure fails the exchange.
   */
  body: Uint8Array | AsyncIterable<Uint8Array> | undefined;
  /** Aborting fails the exchange (or, once answered, the reading of the body) with the signal's reason. */
  signal: AbortSignal;
}

/** Response headers, names case-insensitive; repeated ones joined with `, ` (as fetch's Headers). */
export interface WireHeaders {
  get(name: string): string | null;
  has(name: string): boolean;
}

/** A response body, read once, piece by piece. */
export interface WireBody {
  read(): Promise<{ done: true; value?: undefined } | { done: false; value: Uint8Array }>;
  /** Stop reading: what is left is dropped (and the connection closed if anything was). */
  cancel(): Promise<void>;
}

export interface WireResponse {
  status: number;
  headers: WireHeaders;
  body: WireBody;
}

export type Wire = (url: URL, request: WireRequest) => Promise<WireResponse>;

export interface NodeWireOptions {
  /** PEM certificates trusted for https beside Node's own (and NODE_EXTRA_CA_CERTS). */
  ca?: string | undefined;
}

const EMPTY: Promise<{ done: true }> = Promise.resolve({ done: true });
/** What a streamed request body may have written ahead of what the socket took before it waits. */
const WRITE_AHEAD_BYTES = 1024 * 1024;

/**
 * A wire over node:http and node:https. Node's global agents (keep-alive since Node 19, and on Node
 * 24 proxy-aware under NODE_USE_ENV_PROXY, as its fetch is), or with `ca` an https agent of its own
 * that trusts it.
 */
export function nodeWire(options: NodeWireOptions = {}): Wire {
  let trusting: HttpsAgent | undefined;
  const agentFor = (url: URL): HttpAgent => {
    if (url.protocol !== 'https:') return httpGlobalAgent;
    if (options.ca === undefined) return httpsGlobalAgent;
    trusting ??= new HttpsAgent({
      keepAlive: true,
      ca: [...rootCertificates, options.ca],
      // Node 24's own agents read proxies from the environment when NODE_USE_ENV_PROXY is set; so does this one.
      ...(process.env['NODE_USE_ENV_PROXY'] ? { proxyEnv: process.env } : {}),
    } as ConstructorParameters<typeof HttpsAgent>[0]);
    return trusting;
  };
  return (url, request) => nodeExchange(url, request, agentFor(url));
}

function nodeExchange(url: URL, request: WireRequest, agent: HttpAgent): Promise<WireResponse> {
  const { signal, body } = request;
  if (signal.aborted) return Promise.reject(signal.reason);
  const headers: OutgoingHttpHeaders = { 'User-Agent': 'slipway', ...request.headers };
  if (body instanceof Uint8Array) headers['Content-Length'] = String(body.length);
  else if (body === undefined && request.method !== 'GET' && request.method !== 'HEAD' && request.method !== 'DELETE') headers['Content-Length'] = '0';
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<WireResponse>((resolve, reject) => {
    let response: IncomingMessage | undefined;
    let bodySent = false;
    const req: ClientRequest = send(url, { method: request.method, headers, agent });
    const onAbort = () => {
      const reason: unknown = signal.reason;
      const error = reason instanceof Error ? reason : new Error(String(reason));
      if (response !== undefined) response.destroy(error);
      req.destroy(error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const release = () => signal.removeEventListener('abort', onAbort);
    req.on('error', (error) => {
      if (response === undefined) {
        release();
        reject(error);
      }
      // Once answered, a failure shows where the body is read.
    });
    req.on('response', (res) => {
      response = res;
      resolve({ status: res.statusCode ?? 0, headers: nodeHeaders(res), body: nodeBody(res, req, () => bodySent, release) });
    });

    if (body === undefined || body instanceof Uint8Array) {
      bodySent = true;
      req.end(body);
      return;
    }
    void (async () => {
      try {
        for await (const piece of body) {
          if (response !== undefined || req.destroyed) return;
          if (!req.write(piece) && req.writableLength >= WRITE_AHEAD_BYTES) await drained(req);
          if (response !== undefined || req.destroyed) return;
        }
        bodySent = true;
        req.end();
      } catch (error) {
        req.destroy(error instanceof Error ? error : new Error(String(error)));
      }
    })();
  });
}

function drained(req: ClientRequest): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      req.off('drain', done);
      req.off('close', done);
      req.off('response', done);
      resolve();
    };
    req.on('drain', done);
    req.on('close', done);
    // An answer before the end of the body: the rest is not sent.
    req.on('response', done);
  });
}

function nodeBody(res: IncomingMessage, req: ClientRequest, bodySent: () => boolean, release: () => void): WireBody {
  // Made on the first read: a body never read (a HEAD, a redirect) is resumed to its end instead,
  // which a 'readable' listener of the iterator would prevent.
  let iterator: AsyncIterator<Uint8Array> | undefined;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    release();
    // A request body cut short leaves the connection mid-message: it cannot carry another.
    if (!bodySent()) req.destroy();
  };
  const read = async (): Promise<{ done: true } | { done: false; value: Uint8Array }> => {
    if (finished) return EMPTY;
    iterator ??= res[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
    try {
      const next = await iterator.next();
      if (next.done === true) {
        finish();
        return { done: true };
      }
      // A plain Uint8Array over the same bytes: what callers get is never a Buffer.
      const piece = next.value;
      return { done: false, value: new Uint8Array(piece.buffer, piece.byteOffset, piece.byteLength) };
    } catch (error) {
      finish();
      throw error;
    }
  };
  return {
    read,
    async cancel() {
      if (finished) return;
      // A message received whole (a HEAD, a short error body) is read to its end, so its
      // connection can carry the next request; any other is closed.
      if (!res.complete) {
        res.destroy();
      } else if (iterator === undefined) {
        res.resume();
      } else {
        while (!(await read().catch(() => EMPTY)).done) {
          // the rest is already buffered
        }
      }
      finish();
    },
  };
}

function nodeHeaders(res: IncomingMessage): WireHeaders {
  const raw = res.headers;
  const get = (name: string): string | null => {
    const value = raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  };
  return { get, has: (name) => get(name) !== null };
}

/** A wire over a `fetch` (one a caller injected). It follows no redirect itself: the transport decides. */
export function fetchWire(fetch: typeof globalThis.fetch): Wire {
  return async (url, request) => {
    const { body } = request;
    const streamed = body !== undefined && !(body instanceof Uint8Array);
    const response = await fetch(url, {
      method: request.method,
      headers: request.headers,
      ...(body === undefined ? {} : { body: streamed ? webStream(body) : body }),
      ...(streamed ? { duplex: 'half' } : {}),
      // 'manual' makes fetch keep a copy of a streamed body for a redirect it would never follow
      // (the body is teed, and the unread branch holds every byte); a streamed body follows no
      // redirect anyway, so one fails the request instead.
      redirect: streamed ? 'error' : 'manual',
      signal: request.signal,
    } as RequestInit);
    const reader = response.body?.getReader();
    return {
      status: response.status,
      headers: response.headers,
      body: {
        read: async () => {
          if (reader === undefined) return { done: true };
          const next = await reader.read();
          return next.done ? { done: true } : { done: false, value: next.value };
        },
        cancel: async () => {
          await reader?.cancel().catch(() => undefined);
        },
      },
    };
  };
}

/** `source` as a web stream that reads one piece per pull (highWaterMark 0: nothing read ahead). */
function webStream(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(out) {
        const next = await iterator.next();
        if (next.done === true) out.close();
        else out.enqueue(next.value);
      },
      async cancel() {
        await iterator.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}
