// HTTP to one registry host: auth (Basic, and the Bearer token exchange answering the
// registry's challenge), retries, redirects, and turning responses into typed errors. Everything
// that could carry a secret passes through `redact` before it reaches a message.

import { readBoundedBody } from '@slipway/redact';
import type { CredentialSource, RegistryCredentials } from './credentials.js';
import { parseJsonObject } from './json-object.js';
import { ERROR_BODY_BYTES, MAX_SMALL_BODY_BYTES } from './limits.js';
import {
  DeniedError,
  NotFoundError,
  RateLimitedError,
  RegistryError,
  UnauthorizedError,
  type NotFoundKind,
} from './errors.js';
import {
  backoffDelay,
  isTransientNetworkError,
  networkErrorSummary,
  parseRetryAfter,
  RETRYABLE_STATUS,
  type ResolvedRetry,
} from './retry.js';
import { parseChallenges } from './www-authenticate.js';
import type { Wire, WireBody, WireHeaders } from './http-wire.js';

/** Access needed on one repository. */
export interface Scope {
  repository: string;
  actions: readonly ('pull' | 'push')[];
}

/** One HTTP exchange, reported after it completes (for logs, counters, benchmarks). */
export interface RequestEvent {
  /** `registry` for the registry host, `token` for the token realm, `redirect` for a host a redirect named. */
  kind: 'registry' | 'token' | 'redirect';
  method: string;
  /** Origin and path, without the query (upload URLs carry opaque state there). */
  url: string;
  /** Undefined when the connection failed. */
  status: number | undefined;
  /** Body bytes sent. */
  bytesSent: number;
  /** Body bytes received. */
  bytesReceived: number;
}

export interface TransportOptions {
  host: string;
  insecure: boolean;
  /** Hosts (`host:port`) that may be spoken to over plain http: services.json `insecureRegistries`. */
  insecureHosts: readonly string[];
  /** What carries one exchange: node:http/https, or a caller's fetch (http-wire.ts). */
  wire: Wire;
  credentials: CredentialSource | undefined;
  retry: ResolvedRetry;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  now: () => number;
  /** One exchange, connect to last body byte (a streamed body: the wait for each piece). */
  timeoutMs: number;
  /** One request, every retry and backoff included: no new attempt starts after it, none runs past it. */
  deadlineMs: number;
  /** A streamed body slower than this, averaged over each `timeoutMs` spent waiting on the server, is cut off. */
  minBytesPerSecond: number;
  onRequest: ((event: RequestEvent) => void) | undefined;
}

export interface TransportRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** `/v2/...` or an absolute URL on the registry host. */
  url: string | URL;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /**
   * A body sent as it is read (a blob upload), instead of `body`. It can be read only once, so the
   * request is never sent again: no retry, no answer to a 401 challenge, no redirect followed (the
   * response that asked for them is returned). Not bounded by `timeoutMs` as a whole, but by its
   * pace: a wait of `timeoutMs` for the server to take the next piece, or for its answer after
   * the last, aborts it, and so does a pace below `minBytesPerSecond` over the time spent waiting
   * on the server. A failure of the stream itself (its source) rejects the request.
   */
  bodyStream?: AsyncIterable<Uint8Array>;
  scopes: readonly Scope[];
  /** Safe to send again after a lost response (GET, HEAD, PUT of a manifest). */
  idempotent: boolean;
  /** Follow redirects to other hosts, without credentials (blob downloads land on CDNs). */
  followForeignRedirects?: boolean;
  /** Refuse bodies larger than this. */
  maxBytes?: number;
  /**
   * Hand a 2xx body over unread, as `stream` (blob downloads). Everything up to the body — auth,
   * retries, redirects, error bodies — goes as for any request.
   */
  stream?: boolean;
}

export interface TransportResponse {
  status: number;
  headers: WireHeaders;
  /** Empty when the body came as `stream`. */
  body: Uint8Array;
  url: URL;
  /** A 2xx body asked for with `stream`; the caller reads or cancels it. */
  stream?: StreamedBody;
}

/**
 * A response body read as it arrives. The exchange is reported (onRequest) when it ends: read to
 * the end, failed, or cancelled. A wait of `timeoutMs` for the next piece aborts it; time the
 * reader spends elsewhere between pieces does not count.
 */
export interface StreamedBody {
  /** Content-Length, when given and the body is not content-encoded. */
  readonly size: number | undefined;
  /** Once; a failed connection surfaces as a redacted RegistryError `E_REGISTRY_NETWORK`. */
  readonly chunks: AsyncIterable<Uint8Array>;
  cancel(): Promise<void>;
}

export interface ErrorContext {
  /** What we were doing, for the message: `resolve acme/api:v1`. */
  action: string;
  repository?: string | undefined;
  reference?: string | undefined;
  /** What a 404 without an OCI error code means here. */
  notFound: NotFoundKind;
}

interface CachedToken {
  scopes: Scope[];
  token: string;
  expiresAt: number;
}

const GHCR_DENIED_HINT =
  'On GHCR this usually means the package is not linked to this repository: in the package settings under ' +
  '"Manage Actions access", give the repository Write access (and give the workflow `permissions: packages: write`)';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** A 2xx body read into memory without a bound of its own (upload answers): registries send none. */
const DEFAULT_MAX_BYTES = MAX_SMALL_BODY_BYTES;
const MAX_REDIRECTS = 5;

/** Docker Hub's API lives on another host than its image names say. */
export function apiHostFor(host: string): string {
  return host === 'docker.io' || host === 'index.docker.io' ? 'registry-1.docker.io' : host;
}

export class RegistryTransport {
  readonly host: string;
  readonly base: URL;
  private readonly options: TransportOptions;
  private readonly secrets = new Set<string>();
  private credentials: Promise<RegistryCredentials | undefined> | undefined;
  private basicAuth: string | undefined;
  /** Why the last 401 could not be answered, for the error message. */
  private authProblem: string | undefined;
  private bearer: { realm: URL; service: string | undefined } | undefined;
  private tokens: CachedToken[] = [];
  private pendingTokens = new Map<string, Promise<string>>();

  constructor(options: TransportOptions) {
    this.options = options;
    this.host = options.host;
    this.base = new URL(`${options.insecure ? 'http' : 'https'}://${apiHostFor(options.host)}`);
  }

  /** Replace every known secret (passwords, tokens, Basic values) in `text`. */
  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (secret.length >= 4) out = out.split(secret).join('***');
    return out;
  }

  /** A URL the registry gave us (Location, Link) resolved against `from`; refused when it names another host. */
  registryUrl(value: string, from: URL, what: string): URL {
    let url: URL;
    try {
      url = new URL(value, from);
    } catch {
      throw new RegistryError(`${this.host}: ${what} is not a URL`, { host: this.host, code: 'E_REGISTRY_PROTOCOL' });
    }
    if (url.host !== this.base.host) {
      throw new RegistryError(`${this.host}: refusing ${what} pointing to another host (${url.host})`, { host: this.host, code: 'E_REGISTRY_UNSAFE_URL' });
    }
    // Registries behind TLS-terminating proxies often advertise http:// for themselves.
    url.protocol = this.base.protocol;
    return url;
  }

  async send(request: TransportRequest): Promise<TransportResponse> {
    const { retry, sleep, random, now } = this.options;
    const deadline = this.clock() + this.options.deadlineMs;
    // Another try only when its wait still leaves time for it before the request's deadline.
    const worthWaiting = (ms: number) => this.clock() + ms < deadline;
    let scopes = normalizeScopes(request.scopes);
    let attempt = 0;
    let authRetried = false;
    for (;;) {
      const authorization = await this.authorization(scopes);
      let response: TransportResponse;
      try {
        response = await this.exchange(request, authorization, deadline);
      } catch (error) {
        if (error instanceof RegistryError) throw error;
        const wait = backoffDelay(retry, attempt, random);
        if (request.idempotent && isTransientNetworkError(error) && attempt + 1 < retry.attempts && worthWaiting(wait)) {
          attempt++;
          await sleep(wait);
          continue;
        }
        throw this.networkError(request, error);
      }
      if (response.status === 401 && !authRetried && request.bodyStream === undefined) {
        const widened = await this.onUnauthorized(response, scopes, authorization);
        if (widened !== undefined) {
          authRetried = true;
          scopes = widened;
          continue;
        }
      }
      if (RETRYABLE_STATUS.has(response.status) && request.idempotent && attempt + 1 < retry.attempts) {
        const retryAfter = parseRetryAfter(response.headers.get('retry-after'), now());
        if (retryAfter !== undefined && retryAfter > retry.maxRetryAfterMs) return response;
        const wait = retryAfter ?? backoffDelay(retry, attempt, random);
        if (!worthWaiting(wait)) return response;
        await sleep(wait);
        attempt++;
        continue;
      }
      return response;
    }
  }

  /** Real elapsed time for deadlines (the injected `now` is for Retry-After dates and token lifetimes). */
  private clock(): number {
    return performance.now();
  }

  /** The typed error for a response we can't use. */
  responseError(response: TransportResponse, context: ErrorContext): RegistryError {
    const { code: ociCode, message: ociMessage } = parseOciError(response.body);
    const where = `${this.host}/${context.repository ?? ''}${context.reference === undefined ? '' : refSuffix(context.reference)}`;
    const said = ociCode === undefined ? `HTTP ${response.status}` : `${ociCode}${ociMessage ? `: ${this.redact(ociMessage)}` : ''}`;
    const details = { host: this.host, repository: context.repository, reference: context.reference, status: response.status, ociCode };
    switch (response.status) {
      case 401:
        return new UnauthorizedError(`${context.action}: ${where}: unauthorized (${said}); ${this.authProblem ?? `check the credentials for ${this.host}`}`, details);
      case 403:
        return new DeniedError(`${context.action}: ${where}: denied (${said})`, {
          ...details,
          ...(this.host === 'ghcr.io' ? { hint: GHCR_DENIED_HINT } : {}),
        });
      case 404: {
        const kind: NotFoundKind =
          ociCode === 'NAME_UNKNOWN' ? 'name' : ociCode === 'MANIFEST_UNKNOWN' ? 'manifest' : ociCode === 'BLOB_UNKNOWN' ? 'blob' : context.notFound;
        const what = kind === 'name' ? `repository ${this.host}/${context.repository ?? ''}` : kind === 'blob' ? `blob ${where}` : `manifest ${where}`;
        return new NotFoundError(`${context.action}: ${what} not found (${said})`, { ...details, kind });
      }
      case 429: {
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), this.options.now());
        return new RateLimitedError(
          `${context.action}: ${where}: rate limited by ${this.host}${retryAfterMs === undefined ? '' : ` (retry after ${Math.ceil(retryAfterMs / 1000)}s)`}`,
          { ...details, retryAfterMs },
        );
      }
      default:
        return new RegistryError(`${context.action}: ${where}: ${this.host} answered ${response.status} (${said})`, details);
    }
  }

  private networkError(request: { method: string; url: string | URL }, error: unknown): RegistryError {
    const url = this.describe(request.url);
    const summary = this.redact(networkErrorSummary(error));
    // The original error is not attached: only its redacted summary travels on.
    return new RegistryError(`${request.method} ${url}: ${summary}`, {
      host: this.host,
      code: 'E_REGISTRY_NETWORK',
      cause: new Error(summary),
    });
  }

  private describe(url: string | URL): string {
    const u = new URL(url, this.base);
    return `${u.origin}${u.pathname}`;
  }

  private async exchange(request: TransportRequest, authorization: string | undefined, deadline: number): Promise<TransportResponse> {
    let url = new URL(request.url, this.base);
    let method: string = request.method;
    let body = request.body;
    let foreign = false;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { ...request.headers };
      if (authorization !== undefined && !foreign) headers['Authorization'] = authorization;
      const response = await this.fetchOnce(
        foreign ? 'redirect' : 'registry',
        url,
        { method, headers, body, ...(request.bodyStream === undefined ? {} : { bodyStream: request.bodyStream }) },
        request.maxBytes,
        request.stream === true,
        deadline,
      );
      // A streamed body is gone once sent: a redirect is returned, not followed.
      if (!REDIRECTS.has(response.status) || !response.headers.has('location') || request.bodyStream !== undefined) return response;
      if (hop >= MAX_REDIRECTS) throw new RegistryError(`${this.host}: too many redirects for ${this.describe(request.url)}`, { host: this.host, code: 'E_REGISTRY_PROTOCOL' });
      const next = this.redirectTarget(response.headers.get('location') as string, url, request);
      // A credential belongs to the exact origin (scheme, host and port) it was issued for.
      if (next.origin !== this.base.origin) foreign = true;
      if (response.status === 303) {
        method = 'GET';
        body = undefined;
      }
      url = next;
    }
  }

  /**
   * Where a redirect may go. Downgrading https to http is refused unless the target host is listed
   * in insecureRegistries; another origin is refused unless the request allows it (blob downloads
   * land on CDNs), and is then reached without the Authorization header.
   */
  private redirectTarget(location: string, from: URL, request: TransportRequest): URL {
    let next: URL;
    try {
      next = new URL(location, from);
    } catch {
      throw new RegistryError(`${this.host}: a redirect for ${this.describe(request.url)} is not a URL`, { host: this.host, code: 'E_REGISTRY_PROTOCOL' });
    }
    const refuse = (why: string) =>
      new RegistryError(`${this.host}: refusing a redirect to ${next.protocol}//${next.host} for ${this.describe(request.url)}: ${why}`, {
        host: this.host,
        code: 'E_REGISTRY_UNSAFE_URL',
      });
    if (next.protocol !== 'https:' && next.protocol !== 'http:') throw refuse('only http and https are followed');
    if (next.username !== '' || next.password !== '') throw refuse('it carries credentials in its URL');
    if (from.protocol === 'https:' && next.protocol === 'http:' && !this.options.insecureHosts.includes(next.host)) {
      throw refuse('it downgrades https to plain http (list the host in insecureRegistries to allow that)');
    }
    if (next.origin !== this.base.origin && !request.followForeignRedirects) throw refuse('it names another origin');
    return next;
  }

  private async fetchOnce(
    kind: RequestEvent['kind'],
    url: URL,
    init: { method: string; headers: Record<string, string>; body: Uint8Array | undefined; bodyStream?: AsyncIterable<Uint8Array> },
    maxBytes: number | undefined,
    stream = false,
    deadline = this.clock() + this.options.timeoutMs,
  ): Promise<TransportResponse> {
    const event: RequestEvent = { kind, method: init.method, url: `${url.origin}${url.pathname}`, status: undefined, bytesSent: init.body?.length ?? 0, bytesReceived: 0 };
    // A whole exchange gets timeoutMs, and never runs past the request's deadline. A streamed body
    // may take far longer to read in full, so once handed over it is bounded by its pace instead
    // (streamedBody): a wait for the next piece, and a minimum throughput.
    const budget = Math.max(1, Math.min(this.options.timeoutMs, deadline - this.clock()));
    const controller = new AbortController();
    const idle = new IdleTimer(controller, this.options.timeoutMs);
    // A streamed request body is bounded by its pace (pacedBody), not by one budget for the whole exchange.
    const timer =
      init.bodyStream === undefined
        ? setTimeout(() => controller.abort(new DOMException(`no complete answer within ${Math.round(budget)} ms`, 'TimeoutError')), budget)
        : undefined;
    let handedOver = false;
    try {
      const sent = init.bodyStream === undefined ? init.body : this.pacedBody(init.bodyStream, event, idle, controller);
      const response = await this.options.wire(url, { method: init.method, headers: init.headers, body: sent, signal: controller.signal });
      idle.disarm();
      event.status = response.status;
      if (stream && response.status >= 200 && response.status < 300 && init.method !== 'HEAD') {
        clearTimeout(timer);
        handedOver = true;
        return { status: response.status, headers: response.headers, body: new Uint8Array(), url, stream: this.streamedBody(response, url, init.method, event, idle) };
      }
      let body: Uint8Array;
      if (init.method === 'HEAD' || REDIRECTS.has(response.status)) {
        // Nothing in a redirect's body is used: however large, it is not read.
        await response.body.cancel().catch(() => undefined);
        body = new Uint8Array();
      } else if (response.status < 200 || response.status >= 300) {
        // An error body only feeds the message (parseOciError reads at most 64 KiB): read that much, drop the rest.
        body = await readBoundedBody(boundable(response.headers, response.body), { maxBytes: ERROR_BODY_BYTES });
      } else {
        const bound = maxBytes ?? DEFAULT_MAX_BYTES;
        body = await readBoundedBody(boundable(response.headers, response.body), { maxBytes: bound, tooLarge: () => this.tooLarge(url, bound) });
      }
      event.bytesReceived = body.length;
      return { status: response.status, headers: response.headers, body, url };
    } finally {
      clearTimeout(timer);
      if (!handedOver) {
        idle.stop();
        this.options.onRequest?.(event);
      }
    }
  }

  /**
   * `source` as a request body that counts what it hands over (`event.bytesSent`) and keeps the
   * server to a pace: the time from handing over a piece until the next is asked for, and after
   * the last until the answer, is time spent on the server; `timeoutMs` of it at once, or a pace
   * below `minBytesPerSecond` over each `timeoutMs` of it, aborts the exchange. Time spent reading
   * `source` does not count (its own reader bounds it).
   */
  private async *pacedBody(source: AsyncIterable<Uint8Array>, event: RequestEvent, idle: IdleTimer, controller: AbortController): AsyncGenerator<Uint8Array> {
    const { timeoutMs, minBytesPerSecond } = this.options;
    let waited = 0;
    let windowBytes = 0;
    let handedAt: number | undefined;
    // Asked for the next piece: the server took the last one.
    const resumed = () => {
      idle.disarm();
      if (handedAt === undefined) return;
      waited += performance.now() - handedAt;
      handedAt = undefined;
      if (waited < timeoutMs) return;
      if ((windowBytes * 1000) / waited < minBytesPerSecond) {
        const why = `the server took the body at ${Math.round((windowBytes * 1000) / waited)} bytes/s, below ${minBytesPerSecond}`;
        const error = new DOMException(why, 'TimeoutError');
        controller.abort(error);
        throw error;
      }
      waited = 0;
      windowBytes = 0;
    };
    // Now the server's turn: to take this piece, or to answer.
    const handed = () => {
      handedAt = performance.now();
      idle.arm();
    };
    try {
      for await (const piece of source) {
        event.bytesSent += piece.length;
        windowBytes += piece.length;
        handed();
        yield piece;
        resumed();
      }
      handed();
    } catch (error) {
      idle.disarm();
      throw error;
    }
  }

  private streamedBody(response: { headers: WireHeaders; body: WireBody }, url: URL, method: string, event: RequestEvent, idle: IdleTimer): StreamedBody {
    const reader = response.body;
    const length = Number(response.headers.get('content-length') ?? NaN);
    const encoding = (response.headers.get('content-encoding') ?? 'identity').trim().toLowerCase();
    let ended = false;
    const end = (): boolean => {
      if (ended) return false;
      ended = true;
      idle.stop();
      this.options.onRequest?.(event);
      return true;
    };
    const cancel = async (): Promise<void> => {
      if (end()) await reader.cancel().catch(() => undefined);
    };
    const networkError = (error: unknown) => this.networkError({ method, url }, error);
    const { timeoutMs, minBytesPerSecond } = this.options;
    const tooSlow = (bytes: number, waited: number) =>
      this.networkError({ method, url }, new DOMException(`body arrived at ${Math.round((bytes * 1000) / waited)} bytes/s, below ${minBytesPerSecond}`, 'TimeoutError'));
    async function* chunks(): AsyncGenerator<Uint8Array> {
      let complete = false;
      // Pace is measured over the time spent waiting on the server only, not on our reader.
      let waited = 0;
      let windowBytes = 0;
      try {
        for (;;) {
          if (ended) return;
          let result: Awaited<ReturnType<WireBody['read']>>;
          idle.arm();
          const started = performance.now();
          try {
            result = await reader.read();
          } catch (error) {
            throw networkError(error);
          } finally {
            idle.disarm();
            waited += performance.now() - started;
          }
          if (result.done) {
            complete = true;
            return;
          }
          event.bytesReceived += result.value.length;
          windowBytes += result.value.length;
          if (waited >= timeoutMs) {
            if ((windowBytes * 1000) / waited < minBytesPerSecond) throw tooSlow(windowBytes, waited);
            waited = 0;
            windowBytes = 0;
          }
          yield result.value;
        }
      } finally {
        if (complete) end();
        else await cancel();
      }
    }
    return {
      size: Number.isSafeInteger(length) && length >= 0 && encoding === 'identity' ? length : undefined,
      chunks: chunks(),
      cancel,
    };
  }

  private tooLarge(url: URL, maxBytes: number | undefined): RegistryError {
    return new RegistryError(`${this.host}: response for ${url.pathname} is larger than ${maxBytes} bytes`, { host: this.host, code: 'E_REGISTRY_PROTOCOL' });
  }

  private loadCredentials(): Promise<RegistryCredentials | undefined> {
    this.credentials ??= (async () => {
      const found = await this.options.credentials?.(this.host);
      if (found !== undefined) {
        this.secrets.add(found.password);
        this.secrets.add(basic(found));
        this.secrets.add(basic(found).slice('Basic '.length));
      }
      return found;
    })();
    return this.credentials;
  }

  private async authorization(scopes: Scope[]): Promise<string | undefined> {
    if (this.bearer !== undefined) return `Bearer ${await this.token(scopes)}`;
    return this.basicAuth;
  }

  /** Learn from a 401's challenge; the scopes to retry with, or undefined when retrying can't help. */
  private async onUnauthorized(response: TransportResponse, scopes: Scope[], sent: string | undefined): Promise<Scope[] | undefined> {
    const challenges = parseChallenges(response.headers.get('www-authenticate') ?? '');
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params['realm']);
    if (bearer !== undefined) {
      const realm = this.checkRealm(bearer.params['realm'] as string);
      this.bearer = { realm, service: bearer.params['service'] };
      const asked = parseScopeParam(bearer.params['scope'] ?? '');
      const wanted = normalizeScopes([...scopes, ...asked]);
      if (sent?.startsWith('Bearer ')) {
        const token = sent.slice('Bearer '.length);
        this.tokens = this.tokens.filter((t) => t.token !== token);
      }
      const credentials = await this.loadCredentials();
      this.authProblem =
        credentials === undefined
          ? `no credentials found for ${this.host} (docker login, or GHCR_TOKEN/GITHUB_TOKEN for ghcr.io) and anonymous access is not enough`
          : `the token issued to ${credentials.username} does not allow ${scopeKey(wanted)}`;
      return wanted;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      const credentials = await this.loadCredentials();
      if (credentials === undefined) {
        this.authProblem = `no credentials found for ${this.host} (docker login, or GHCR_TOKEN/GITHUB_TOKEN for ghcr.io)`;
      } else if (credentials.tokenOnly === true) {
        this.authProblem = `${this.host} asks for Basic auth; the token found for it is only ever sent to a token service, never raw`;
      } else if (sent?.startsWith('Basic ')) {
        this.authProblem = `${this.host} did not accept the credentials for user ${credentials.username}`;
      } else {
        this.basicAuth = basic(credentials);
        return scopes;
      }
      return undefined;
    }
    this.authProblem = `${this.host} answered 401 without a challenge we can answer`;
    return undefined;
  }

  /**
   * The realm gets our credentials, so it must be reachable safely: https anywhere (Docker Hub's
   * realm is on another host), plain http only on the host name of a registry itself spoken to
   * over http (an `insecureRegistries` host: its token service on another port), and never with
   * credentials embedded in the URL. Listing a registry as insecure accepts clear text with that
   * host, not with whatever host its challenge names.
   */
  private checkRealm(value: string): URL {
    let realm: URL;
    try {
      realm = new URL(value);
    } catch {
      throw new RegistryError(`${this.host}: the token realm it named is not a URL`, { host: this.host, code: 'E_REGISTRY_PROTOCOL' });
    }
    if (realm.username !== '' || realm.password !== '') {
      throw new RegistryError(`${this.host}: refusing a token realm with credentials in its URL`, { host: this.host, code: 'E_REGISTRY_UNSAFE_URL' });
    }
    if (realm.protocol === 'https:' || (realm.protocol === 'http:' && this.options.insecure && realm.hostname === this.base.hostname)) return realm;
    throw new RegistryError(
      `${this.host}: refusing to send credentials to the token realm ${realm.protocol}//${realm.host}${realm.pathname}: ` +
        `only https realms are used, or plain http on the host of a registry listed in insecureRegistries`,
      { host: this.host, code: 'E_REGISTRY_UNSAFE_URL' },
    );
  }

  private async token(scopes: Scope[]): Promise<string> {
    const now = this.options.now();
    const cached = this.tokens.find((t) => t.expiresAt > now && covers(t.scopes, scopes));
    if (cached !== undefined) return cached.token;
    const key = scopeKey(scopes);
    let pending = this.pendingTokens.get(key);
    if (pending === undefined) {
      pending = this.fetchToken(scopes).finally(() => this.pendingTokens.delete(key));
      this.pendingTokens.set(key, pending);
    }
    return pending;
  }

  private async fetchToken(scopes: Scope[]): Promise<string> {
    const { realm, service } = this.bearer as { realm: URL; service: string | undefined };
    const credentials = await this.loadCredentials();
    const url = new URL(realm);
    if (service !== undefined) url.searchParams.set('service', service);
    for (const scope of scopes) url.searchParams.append('scope', `repository:${scope.repository}:${scope.actions.join(',')}`);
    if (credentials !== undefined) url.searchParams.set('account', credentials.username);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (credentials !== undefined) headers['Authorization'] = basic(credentials);

    const { retry, sleep, random } = this.options;
    const where = `${realm.origin}${realm.pathname}`;
    let response: TransportResponse;
    for (let attempt = 0; ; attempt++) {
      try {
        response = await this.fetchOnce('token', url, { method: 'GET', headers, body: undefined }, MAX_SMALL_BODY_BYTES);
      } catch (error) {
        if (error instanceof RegistryError) throw error;
        if (isTransientNetworkError(error) && attempt + 1 < retry.attempts) {
          await sleep(backoffDelay(retry, attempt, random));
          continue;
        }
        const summary = this.redact(networkErrorSummary(error));
        throw new RegistryError(`${this.host}: token service ${where}: ${summary}`, { host: this.host, code: 'E_REGISTRY_NETWORK', cause: new Error(summary) });
      }
      if (RETRYABLE_STATUS.has(response.status) && attempt + 1 < retry.attempts) {
        const retryAfter = parseRetryAfter(response.headers.get('retry-after'), this.options.now());
        if (retryAfter === undefined || retryAfter <= retry.maxRetryAfterMs) {
          await sleep(retryAfter ?? backoffDelay(retry, attempt, random));
          continue;
        }
      }
      break;
    }
    const who = credentials === undefined ? 'anonymously' : `as ${credentials.username}`;
    const details = { host: this.host, status: response.status };
    if (response.status === 401) throw new UnauthorizedError(`${this.host}: the token service ${where} refused to log in ${who}`, details);
    if (response.status === 403) {
      throw new DeniedError(`${this.host}: the token service ${where} denied ${scopeKey(scopes)} ${who}`, {
        ...details,
        ...(this.host === 'ghcr.io' ? { hint: GHCR_DENIED_HINT } : {}),
      });
    }
    if (response.status === 429) throw new RateLimitedError(`${this.host}: the token service ${where} is rate limiting`, details);
    if (response.status !== 200) throw new RegistryError(`${this.host}: the token service ${where} answered ${response.status}`, details);
    const parsed = parseJsonObject(response.body) as { token?: unknown; access_token?: unknown; expires_in?: unknown } | undefined;
    if (!parsed) {
      throw new RegistryError(`${this.host}: the token service ${where} answered something that is not a JSON object`, { ...details, code: 'E_REGISTRY_PROTOCOL' });
    }
    const token = typeof parsed.token === 'string' && parsed.token !== '' ? parsed.token : parsed.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new RegistryError(`${this.host}: the token service ${where} answered without a token`, { ...details, code: 'E_REGISTRY_PROTOCOL' });
    }
    this.secrets.add(token);
    // The token spec: a missing or shorter lifetime means 60 seconds. Keep a margin for clock skew.
    const lifetime = Math.max(60, typeof parsed.expires_in === 'number' ? parsed.expires_in : 60);
    this.tokens.push({ scopes, token, expiresAt: this.options.now() + lifetime * 1000 - 10_000 });
    return token;
  }
}

/**
 * Aborts a request when the server keeps us waiting `ms` for the next thing. Armed and disarmed
 * around every piece of a streamed body, so arming costs no timer of its own: one timer, unref'd
 * (a wait on the server always has its socket keeping the process alive), looks at when the
 * current wait began and sleeps again for what is left of it.
 */
class IdleTimer {
  private armedAt: number | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  constructor(
    private readonly controller: AbortController,
    private readonly ms: number,
  ) {}

  arm(): void {
    this.armedAt = performance.now();
    if (this.timer === undefined) this.wake(this.ms);
  }

  disarm(): void {
    this.armedAt = undefined;
  }

  /** Disarmed for good: the timer goes too. */
  stop(): void {
    this.armedAt = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private wake(delay: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.armedAt === undefined) return;
      const left = this.armedAt + this.ms - performance.now();
      if (left > 0) this.wake(left);
      else this.controller.abort(new DOMException(`no data for ${this.ms} ms`, 'TimeoutError'));
    }, Math.max(1, delay));
    this.timer.unref();
  }
}

/** A wire body as readBoundedBody reads a fetch Response's. */
function boundable(headers: WireHeaders, body: WireBody) {
  return { headers, body: { getReader: () => body, cancel: () => body.cancel() } };
}

function basic(credentials: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

function refSuffix(reference: string): string {
  return reference.includes(':') ? `@${reference}` : `:${reference}`;
}

function parseOciError(body: Uint8Array): { code?: string; message?: string } {
  if (body.length === 0 || body.length > ERROR_BODY_BYTES) return {};
  try {
    const parsed = JSON.parse(new TextDecoder().decode(body)) as { errors?: { code?: unknown; message?: unknown }[] };
    const first = parsed.errors?.[0];
    return {
      ...(typeof first?.code === 'string' ? { code: first.code } : {}),
      ...(typeof first?.message === 'string' ? { message: first.message.slice(0, 300) } : {}),
    };
  } catch {
    return {};
  }
}

/** One entry per repository, actions merged and ordered `pull,push`. */
export function normalizeScopes(scopes: readonly Scope[]): Scope[] {
  const byRepo = new Map<string, Set<'pull' | 'push'>>();
  for (const s of scopes) {
    const set = byRepo.get(s.repository) ?? new Set();
    for (const a of s.actions) set.add(a);
    byRepo.set(s.repository, set);
  }
  return [...byRepo.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([repository, set]) => ({ repository, actions: (['pull', 'push'] as const).filter((a) => set.has(a)) }));
}

function parseScopeParam(value: string): Scope[] {
  return value
    .split(' ')
    .filter(Boolean)
    .flatMap((item) => {
      const [type, ...rest] = item.split(':');
      if (type !== 'repository' || rest.length < 2) return [];
      const actions = (rest.pop() as string).split(',').filter((a): a is 'pull' | 'push' => a === 'pull' || a === 'push');
      return [{ repository: rest.join(':'), actions }];
    });
}

function covers(have: Scope[], need: Scope[]): boolean {
  return need.every((n) => have.some((h) => h.repository === n.repository && n.actions.every((a) => h.actions.includes(a))));
}

function scopeKey(scopes: Scope[]): string {
  return scopes.map((s) => `repository:${s.repository}:${s.actions.join(',')}`).join(' ');
}
