// The `Registry` port over the OCI distribution API, for one registry host.

import { MAX_BLOB_IN_MEMORY, MAX_MANIFEST_BYTES, MAX_TAG_LIST_BYTES } from './limits.js';
import { parseJsonObject } from './json-object.js';
import { completeUpload, isRetryableUploadFailure, startUpload, streamUpload, StreamRefusedError, type UploadMode, type UploadSizes } from './blob-upload.js';
import type { CredentialSource } from './credentials.js';
import { computeDigest, isDigest } from './digest.js';
import { DigestMismatchError, NotFoundError, RegistryError } from './errors.js';
import { backoffDelay, resolveRetry, type RetryOptions } from './retry.js';
import { RegistryTransport, type RequestEvent, type Scope, type TransportResponse } from './registry-transport.js';
import { bytesSource, verifyingReader } from './blob-stream.js';
import { fetchWire, nodeWire } from './http-wire.js';
import { MANIFEST_ACCEPT, type BlobPushOutcome, type BlobPushResult, type BlobReader, type BlobSource, type Descriptor, type Registry, type StoredManifest } from './types.js';

export interface RegistryClientOptions {
  /** `ghcr.io`, `127.0.0.1:5000`; `docker.io` is spoken to at registry-1.docker.io. */
  host: string;
  /** Plain http instead of https (services.json `insecureRegistries`); also allows an http token realm. */
  insecure?: boolean;
  /**
   * Other hosts (`host:port`) a redirect may reach over plain http, never with credentials
   * (services.json `insecureRegistries`). Any other https → http redirect is refused.
   */
  insecureHosts?: readonly string[];
  /**
   * What sends each request instead of node:http/https (which are the default: blob bytes stream
   * from socket to socket through Node streams, and undici is never loaded). Every decision —
   * auth, redirects, timeouts, limits — is the client's either way; the fetch is only the wire.
   */
  fetch?: typeof globalThis.fetch;
  /**
   * PEM certificates trusted for https beside Node's own (and `NODE_EXTRA_CA_CERTS`): a registry
   * behind a private CA. Not used with `fetch`.
   */
  ca?: string;
  /** Where credentials come from; anonymous when absent. */
  credentials?: CredentialSource;
  retry?: RetryOptions;
  /** Injected so tests don't wait. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
  /** Called after every HTTP exchange. */
  onRequest?: (event: RequestEvent) => void;
  /** `n` for tag list pages; default: the registry's own page size. */
  tagPageSize?: number;
  /**
   * How blobs are uploaded. `stream` (default): each in one streamed request — a PUT with its
   * Content-Length, or one PATCH and a closing PUT when its size is unknown — holding no more than
   * a piece of it; a registry that refuses that body (411, 413, 416, …) gets chunks instead, for
   * that blob and every later one. `chunks`: always PATCHes of `chunkBytes`.
   */
  uploadMode?: UploadMode;
  /** Chunked uploads: blobs up to this size are uploaded in one request. Default 16 MiB. */
  monolithicMaxBytes?: number;
  /**
   * Chunked uploads: the chunk size for larger blobs (raised to the registry's
   * OCI-Chunk-Min-Length), and about what such an upload holds in memory. Default 8 MiB.
   */
  chunkBytes?: number;
  /**
   * Per HTTP exchange, connect to last body byte. Default 60 s. A streamed blob download (openBlob)
   * gets this long for its headers, then is aborted after this long without data, or when over any
   * `timeoutMs` of waiting it averaged less than `minBytesPerSecond`.
   */
  timeoutMs?: number;
  /** Per request, every retry and backoff included. Default 3 minutes. */
  deadlineMs?: number;
  /** Slowest pace a streamed download may keep. Default 16 KiB/s. */
  minBytesPerSecond?: number;
}

/** The HTTP registry: the `Registry` port plus what only a registry server can do. */
export interface RegistryClient extends Registry {
  readonly host: string;
  /** pushBlob that says what happened; with `mountFrom`, tries a cross-repository mount first. */
  uploadBlob(repository: string, blob: { digest: string; bytes: Uint8Array }, options?: { mountFrom?: string }): Promise<BlobPushOutcome>;
  /**
   * pushBlob from a stream, sent as it is read (see `uploadMode`), re-opening the source for every
   * restarted session. With `mountFrom`, tries a mount first.
   */
  pushBlobFrom(repository: string, source: BlobSource, options?: { mountFrom?: string }): Promise<BlobPushResult>;
  /** The blob's bytes as they arrive, verified against `digest` at the end (see BlobReader). */
  openBlob(repository: string, digest: string): Promise<BlobReader>;
  /** Mount a blob from another repository on this registry without sending its bytes; false when the registry declined. */
  mountBlob(repository: string, digest: string, fromRepository: string): Promise<boolean>;
  /**
   * Every tag, following `Link: <…>; rel="next"` across all pages. Throws NotFoundError with
   * `kind: 'name'` when the repository does not exist (a first publish), so callers can tell
   * it from 401/403.
   */
  listTags(repository: string, options?: { pageSize?: number }): Promise<string[]>;
}


function blobBound(size: number | undefined, what: string): number {
  if (size === undefined) return MAX_BLOB_IN_MEMORY;
  if (!Number.isSafeInteger(size) || size < 0) throw new RegistryError(`${what}: the descriptor's size ${String(size)} is not a byte count`, { code: 'E_REGISTRY_PROTOCOL' });
  if (size > MAX_BLOB_IN_MEMORY) {
    throw new RegistryError(`${what}: the descriptor declares ${size} bytes, more than the ${MAX_BLOB_IN_MEMORY} read into memory`, { code: 'E_REGISTRY_PROTOCOL' });
  }
  return size;
}
const ACCEPT = MANIFEST_ACCEPT.join(', ');

export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  const retry = resolveRetry(options.retry);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const transport = new RegistryTransport({
    host: options.host,
    insecure: options.insecure ?? false,
    insecureHosts: [...(options.insecureHosts ?? []), ...(options.insecure === true ? [options.host] : [])],
    wire: options.fetch === undefined ? nodeWire({ ca: options.ca }) : fetchWire(options.fetch),
    credentials: options.credentials,
    retry,
    sleep,
    random,
    now: options.now ?? Date.now,
    timeoutMs: options.timeoutMs ?? 60_000,
    deadlineMs: options.deadlineMs ?? 180_000,
    minBytesPerSecond: options.minBytesPerSecond ?? 16 * 1024,
    onRequest: options.onRequest,
  });
  const sizes: UploadSizes = { monolithicMaxBytes: options.monolithicMaxBytes ?? 16 * 1024 * 1024, chunkBytes: options.chunkBytes ?? 8 * 1024 * 1024 };
  const host = options.host;
  // Becomes 'chunks' for good once the registry refuses a streamed body.
  let uploadMode: UploadMode = options.uploadMode ?? 'stream';
  const pull = (repository: string): Scope[] => [{ repository, actions: ['pull'] }];
  const push = (repository: string): Scope[] => [{ repository, actions: ['pull', 'push'] }];

  async function getManifest(repository: string, reference: string): Promise<StoredManifest> {
    const response = await transport.send({
      method: 'GET',
      url: `/v2/${repository}/manifests/${reference}`,
      headers: { Accept: ACCEPT },
      scopes: pull(repository),
      idempotent: true,
      maxBytes: MAX_MANIFEST_BYTES,
    });
    if (response.status !== 200) throw transport.responseError(response, { action: 'get manifest', repository, reference, notFound: 'manifest' });
    return verifiedManifest(response, repository, reference);
  }

  function verifiedManifest(response: TransportResponse, repository: string, reference: string): StoredManifest {
    const announced = response.headers.get('docker-content-digest');
    // crane trusts the registry for tags; we check the bytes against whatever digest we have.
    const expected = isDigest(reference) ? reference : announced !== null && isDigest(announced) ? announced : undefined;
    const actual = computeDigest(response.body, expected);
    if (expected !== undefined && actual !== expected) {
      throw new DigestMismatchError(`get manifest: ${host}/${repository}${refSuffix(reference)}: content has digest ${actual}, expected ${expected}`, {
        host,
        repository,
        reference,
        expected,
        actual,
      });
    }
    return { mediaType: manifestMediaType(response, repository, reference), digest: actual, bytes: response.body };
  }

  function manifestMediaType(response: TransportResponse, repository: string, reference: string): string {
    const header = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
    if ((MANIFEST_ACCEPT as readonly string[]).includes(header)) return header;
    const manifest = parseJsonObject(response.body);
    if (!manifest) {
      throw new RegistryError(`get manifest: ${host}/${repository}${refSuffix(reference)}: the manifest is not a JSON object`, { host, repository, reference, code: 'E_REGISTRY_PROTOCOL' });
    }
    const field = manifest['mediaType'];
    if (typeof field === 'string' && field !== '') return field;
    if (header !== '' && header !== 'application/json') return header;
    throw new RegistryError(`get manifest: ${host}/${repository}${refSuffix(reference)}: no media type in the response or the manifest`, {
      host,
      repository,
      reference,
      code: 'E_REGISTRY_PROTOCOL',
    });
  }

  async function hasBlob(repository: string, digest: string, scopes = pull(repository)): Promise<boolean> {
    const response = await transport.send({ method: 'HEAD', url: `/v2/${repository}/blobs/${digest}`, scopes, idempotent: true, followForeignRedirects: true });
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw transport.responseError(response, { action: 'check blob', repository, reference: digest, notFound: 'blob' });
  }

  async function uploadBlob(repository: string, blob: { digest: string; bytes: Uint8Array }, pushOptions: { mountFrom?: string } = {}): Promise<BlobPushOutcome> {
    const actual = computeDigest(blob.bytes, blob.digest);
    if (actual !== blob.digest) {
      throw new DigestMismatchError(`push blob: ${host}/${repository}: content has digest ${actual}, not ${blob.digest}`, {
        host,
        repository,
        reference: blob.digest,
        expected: blob.digest,
        actual,
      });
    }
    return (await pushBlobFrom(repository, bytesSource(blob, { hashed: true }), pushOptions)).outcome;
  }

  async function pushBlobFrom(repository: string, source: BlobSource, pushOptions: { mountFrom?: string } = {}): Promise<BlobPushResult> {
    const { mountFrom } = pushOptions;
    if (mountFrom === undefined && (await hasBlob(repository, source.digest, push(repository)))) return { outcome: 'present', bytes: 0 };
    for (let attempt = 0; ; attempt++) {
      const progress = { bytes: 0 };
      try {
        const started = await startUpload(transport, repository, mountFrom === undefined || mountFrom === repository ? undefined : { digest: source.digest, from: mountFrom });
        if (started.mounted) return { outcome: 'mounted', bytes: 0 };
        if (uploadMode === 'stream') await streamUpload(transport, repository, started.location, source, progress);
        else await completeUpload(transport, repository, started.location, source, sizes, progress, started.minChunkBytes);
        return { outcome: 'uploaded', bytes: progress.bytes };
      } catch (error) {
        if (error instanceof StreamRefusedError) {
          // Not a failed attempt: the same upload again, in chunks.
          uploadMode = 'chunks';
          attempt--;
          continue;
        }
        // A source that failed halfway (a reset download) is restarted like a failed session.
        if (!isRetryableUploadFailure(error) || attempt + 1 >= retry.attempts) throw error;
        // The response may be what got lost: if the blob landed, we are done.
        if (await hasBlob(repository, source.digest, push(repository))) return { outcome: 'present', bytes: progress.bytes };
        await sleep(backoffDelay(retry, attempt, random));
      }
    }
  }

  async function openBlob(repository: string, digest: string): Promise<BlobReader> {
    const response = await transport.send({
      method: 'GET',
      url: `/v2/${repository}/blobs/${digest}`,
      scopes: pull(repository),
      idempotent: true,
      followForeignRedirects: true,
      stream: true,
    });
    const body = response.stream;
    if (response.status !== 200 || body === undefined) {
      await body?.cancel();
      throw transport.responseError(response, { action: 'get blob', repository, reference: digest, notFound: 'blob' });
    }
    return verifyingReader({
      digest,
      size: body.size,
      pieces: body.chunks,
      close: () => body.cancel(),
      mismatch: (actual) =>
        new DigestMismatchError(`get blob: ${host}/${repository}@${digest}: content has digest ${actual}`, { host, repository, reference: digest, expected: digest, actual }),
    });
  }

  const client: RegistryClient = {
    host,

    async resolve(repository, reference) {
      const response = await transport.send({
        method: 'HEAD',
        url: `/v2/${repository}/manifests/${reference}`,
        headers: { Accept: ACCEPT },
        scopes: pull(repository),
        idempotent: true,
      });
      if (response.status === 404) return undefined;
      if (response.status !== 200) throw transport.responseError(response, { action: 'resolve', repository, reference, notFound: 'manifest' });
      const digest = response.headers.get('docker-content-digest');
      const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
      const size = Number(response.headers.get('content-length') ?? NaN);
      const trustworthy = digest !== null && isDigest(digest) && (!isDigest(reference) || digest === reference);
      if (trustworthy && (MANIFEST_ACCEPT as readonly string[]).includes(mediaType) && Number.isSafeInteger(size)) {
        return { mediaType, digest, size } satisfies Descriptor;
      }
      // GHCR answers HEAD without Docker-Content-Digest for some media types; fall back to GET.
      try {
        const manifest = await getManifest(repository, reference);
        return { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.length };
      } catch (error) {
        if (error instanceof NotFoundError && error.kind !== 'blob') return undefined;
        throw error;
      }
    },

    getManifest,

    async putManifest(repository, reference, manifest) {
      const digest = computeDigest(manifest.bytes, isDigest(reference) ? reference : undefined);
      if (isDigest(reference) && digest !== reference) {
        throw new DigestMismatchError(`put manifest: ${host}/${repository}@${reference}: content has digest ${digest}`, {
          host,
          repository,
          reference,
          expected: reference,
          actual: digest,
        });
      }
      const response = await transport.send({
        method: 'PUT',
        url: `/v2/${repository}/manifests/${reference}`,
        headers: { 'Content-Type': manifest.mediaType },
        body: manifest.bytes,
        scopes: push(repository),
        idempotent: true,
      });
      if (response.status !== 201 && response.status !== 200 && response.status !== 202) {
        throw transport.responseError(response, { action: 'put manifest', repository, reference, notFound: 'name' });
      }
      const stored = response.headers.get('docker-content-digest');
      if (stored !== null && stored !== digest) {
        throw new DigestMismatchError(`put manifest: ${host}/${repository}${refSuffix(reference)}: registry stored ${stored}, we sent ${digest}`, {
          host,
          repository,
          reference,
          expected: digest,
          actual: stored,
        });
      }
      return digest;
    },

    hasBlob: (repository, digest) => hasBlob(repository, digest),

    async getBlob(repository, digest, blobOptions = {}) {
      const maxBytes = blobBound(blobOptions.size, `get blob: ${host}/${repository}@${digest}`);
      const response = await transport.send({
        method: 'GET',
        url: `/v2/${repository}/blobs/${digest}`,
        scopes: pull(repository),
        idempotent: true,
        followForeignRedirects: true,
        maxBytes,
      });
      if (response.status !== 200) throw transport.responseError(response, { action: 'get blob', repository, reference: digest, notFound: 'blob' });
      const actual = computeDigest(response.body, digest);
      if (actual !== digest) {
        throw new DigestMismatchError(`get blob: ${host}/${repository}@${digest}: content has digest ${actual}`, { host, repository, reference: digest, expected: digest, actual });
      }
      return response.body;
    },

    uploadBlob,
    pushBlobFrom,
    openBlob,

    async pushBlob(repository, blob) {
      await uploadBlob(repository, blob);
    },

    async mountBlob(repository, digest, fromRepository) {
      const started = await startUpload(transport, repository, { digest, from: fromRepository });
      return started.mounted;
    },

    async listTags(repository, listOptions = {}) {
      const pageSize = listOptions.pageSize ?? options.tagPageSize;
      let url: URL = new URL(`/v2/${repository}/tags/list`, transport.base);
      if (pageSize !== undefined) url.searchParams.set('n', String(pageSize));
      const tags: string[] = [];
      const seen = new Set<string>();
      for (;;) {
        seen.add(url.href);
        const response = await transport.send({ method: 'GET', url, scopes: pull(repository), idempotent: true, maxBytes: MAX_TAG_LIST_BYTES });
        if (response.status !== 200) throw transport.responseError(response, { action: 'list tags', repository, notFound: 'name' });
        const page = parseJsonObject(response.body);
        if (!page) throw new RegistryError(`list tags: ${host}/${repository}: the answer is not a JSON object`, { host, repository, code: 'E_REGISTRY_PROTOCOL' });
        if (Array.isArray(page.tags)) for (const tag of page.tags) if (typeof tag === 'string') tags.push(tag);
        const next = nextLink(response.headers.get('link'));
        if (next === undefined) break;
        url = transport.registryUrl(next, response.url, 'a tag list Link');
        if (seen.has(url.href)) {
          throw new RegistryError(`list tags: ${host}/${repository}: the registry's Link header loops back to a page already read`, { host, repository, code: 'E_REGISTRY_PROTOCOL' });
        }
      }
      return [...new Set(tags)];
    },
  };
  return client;
}

/** The `rel="next"` target of an RFC 8288 Link header. */
export function nextLink(header: string | null): string | undefined {
  if (header === null) return undefined;
  for (const match of header.matchAll(/<([^>]*)>\s*((?:;\s*[^;,]+)*)/g)) {
    const params = match[2] ?? '';
    if (/;\s*rel\s*=\s*"?(?:[^";,]*\s)?next(?:\s[^";,]*)?"?/i.test(params)) return match[1];
  }
  return undefined;
}

function refSuffix(reference: string): string {
  return isDigest(reference) || reference.includes(':') ? `@${reference}` : `:${reference}`;
}
