// Blob uploads (distribution spec "Pushing blobs"): POST to open a session, then the blob streamed
// in one request (a PUT with its Content-Length when the size is known, else one PATCH and a
// closing PUT), or, for a registry that refuses that, PATCH chunks and a closing PUT; or a
// cross-repository mount.

import { concatBytes } from '@slipway/redact';
import { verifiedDigest } from './blob-stream.js';
import { digestHasher } from './digest.js';
import { DigestMismatchError, RegistryError } from './errors.js';
import { RETRYABLE_STATUS } from './retry.js';
import type { RegistryTransport, Scope, TransportResponse } from './registry-transport.js';
import type { BlobReader, BlobSource } from './types.js';

export interface UploadSizes {
  /** Chunked uploads: blobs up to this size go in one PUT, read into memory. */
  monolithicMaxBytes: number;
  /** Chunked uploads: PATCH size for larger blobs (raised to the registry's OCI-Chunk-Min-Length). */
  chunkBytes: number;
}

/**
 * `stream`: every blob in one streamed request (PUT, or PATCH then PUT when its size is unknown),
 * holding no more than a piece of it; `chunks`: PATCHes of `chunkBytes`, two held at a time.
 */
export type UploadMode = 'stream' | 'chunks';

export type StartedUpload = { mounted: true } | { mounted: false; location: URL; minChunkBytes: number | undefined };

/**
 * The registry answered a streamed upload with a status that says it takes no such body (a
 * length it requires, a Content-Range, a size limit): upload in chunks instead.
 */
export class StreamRefusedError extends Error {
  constructor(readonly refusal: RegistryError) {
    super(`streamed upload refused: ${refusal.message}`);
    this.name = 'StreamRefusedError';
  }
}

/** Statuses a registry (or a proxy before it) answers a body it will not take in one piece with. */
const STREAM_REFUSALS = new Set([400, 405, 411, 413, 415, 416, 501]);

/** Open an upload session; with `mountFrom`, ask the registry to mount the blob from that repository instead. */
export async function startUpload(
  transport: RegistryTransport,
  repository: string,
  mount?: { digest: string; from: string },
): Promise<StartedUpload> {
  const query = mount === undefined ? '' : `?${new URLSearchParams({ mount: mount.digest, from: mount.from }).toString()}`;
  const scopes: Scope[] = [{ repository, actions: ['pull', 'push'] }];
  if (mount !== undefined) scopes.push({ repository: mount.from, actions: ['pull'] });
  const response = await transport.send({ method: 'POST', url: `/v2/${repository}/blobs/uploads/${query}`, scopes, idempotent: false });
  const context = { action: mount === undefined ? 'start upload' : 'mount blob', repository, reference: mount?.digest, notFound: 'name' as const };
  if (response.status === 201 && mount !== undefined) return { mounted: true };
  if (response.status !== 202) throw transport.responseError(response, context);
  const location = response.headers.get('location');
  if (location === null) throw new RegistryError(`${transport.host}: upload session for ${repository} came without a Location`, { host: transport.host, repository, code: 'E_REGISTRY_PROTOCOL' });
  // OCI-Chunk-Min-Length (distribution spec 1.1): every PATCH but the last must be at least this long.
  const min = Number(response.headers.get('oci-chunk-min-length') ?? NaN);
  return {
    mounted: false,
    location: transport.registryUrl(location, response.url, 'an upload Location'),
    minChunkBytes: Number.isSafeInteger(min) && min > 0 ? min : undefined,
  };
}

/**
 * Read `source` from the start into an open session and close it with the digest, streamed in one
 * request: a PUT with the blob as its body and its Content-Length when the size is known
 * (distribution spec "monolithic" upload, 2 requests with the POST), else one PATCH with the whole
 * blob and an empty closing PUT (as `docker push` and skopeo send it). No more than READ_AHEAD_BYTES
 * of the blob are held. Each byte is hashed once: by the reader when it verifies what it hands out (a
 * registry download, a file, bytes already hashed), else here; and the last piece is sent only
 * once every byte has matched, so a registry never receives the whole of a blob that fails its
 * digest, and the session is abandoned (DELETEd). A source that fails, lies about its size or
 * runs long does the same. A registry that refuses the streamed body (STREAM_REFUSALS) gets its
 * session DELETEd and StreamRefusedError thrown: the caller starts again in chunks.
 */
export async function streamUpload(
  transport: RegistryTransport,
  repository: string,
  start: URL,
  source: BlobSource,
  progress: { bytes: number } = { bytes: 0 },
): Promise<void> {
  const scopes: Scope[] = [{ repository, actions: ['pull', 'push'] }];
  const context = { action: 'upload blob', repository, reference: source.digest, notFound: 'blob' as const };
  const where = `${transport.host}/${repository}@${source.digest}`;
  let location = start;
  const cancelSession = () => transport.send({ method: 'DELETE', url: location, scopes, idempotent: false }).catch(() => undefined);
  const abandon = async (error: unknown): Promise<never> => {
    await cancelSession();
    throw error;
  };

  const reader: BlobReader = await source.open().catch(abandon);
  try {
    const expected = source.size ?? reader.size;
    const hash = verifiedDigest(reader) === source.digest ? undefined : digestHasher(source.digest);
    const iterator = reader.chunks[Symbol.asyncIterator]();
    let failure: { error: unknown } | undefined;
    const fail = (error: Error): never => {
      failure = { error };
      throw error;
    };
    const protocol = (message: string) => new RegistryError(`upload blob: ${where}: ${message}`, { host: transport.host, repository, reference: source.digest, code: 'E_REGISTRY_PROTOCOL' });
    // One piece is held back until the next arrives: the last goes out only after the check. The
    // transport asks for the next piece once the registry has taken the last (the download waits
    // meanwhile, its socket's buffers filling as they may).
    async function* body(): AsyncGenerator<Uint8Array> {
      let held: Uint8Array | undefined;
      for (;;) {
        let next: IteratorResult<Uint8Array>;
        try {
          next = await iterator.next();
        } catch (error) {
          failure = { error };
          throw error;
        }
        if (next.done === true) {
          if (expected !== undefined && progress.bytes !== expected) fail(protocol(`the source ended after ${progress.bytes} of the ${expected} bytes it announced`));
          const actual = hash?.digest();
          if (actual !== undefined && actual !== source.digest) fail(sourceMismatch(transport, repository, source.digest, actual));
          if (held !== undefined) yield held;
          return;
        }
        const piece = next.value;
        if (piece.length === 0) continue;
        progress.bytes += piece.length;
        if (expected !== undefined && progress.bytes > expected) {
          fail(protocol(`the source sent more than the ${expected} bytes ${expected === source.size ? 'its descriptor says' : 'it announced'}`));
        }
        hash?.update(piece);
        const previous = held;
        held = piece;
        if (previous !== undefined) yield previous;
      }
    }
    const octet = { 'Content-Type': 'application/octet-stream' };
    const send = async (request: { method: 'PUT' | 'PATCH'; url: URL; headers: Record<string, string> }): Promise<TransportResponse> => {
      let response: TransportResponse;
      try {
        response = await transport.send({ ...request, bodyStream: body(), scopes, idempotent: false });
      } catch (error) {
        // The request failed because its source did: that is the error to report.
        if (failure !== undefined) return abandon(failure.error);
        throw error;
      }
      // Whatever the registry answered, a source that failed leaves nothing to keep.
      if (failure !== undefined) return abandon(failure.error);
      return response;
    };
    const refused = async (response: TransportResponse): Promise<never> => {
      if (failure !== undefined) return abandon(failure.error);
      const error = transport.responseError(response, context);
      if (STREAM_REFUSALS.has(response.status) && error.ociCode !== 'DIGEST_INVALID') {
        await cancelSession();
        throw new StreamRefusedError(error);
      }
      throw error;
    };
    const closing = (url: URL) => {
      const out = new URL(url);
      out.searchParams.set('digest', source.digest);
      return out;
    };

    let response: TransportResponse;
    if (expected !== undefined) {
      response = await send({ method: 'PUT', url: closing(location), headers: { ...octet, 'Content-Length': String(expected) } });
      if (response.status !== 201) return await refused(response);
    } else {
      response = await send({ method: 'PATCH', url: location, headers: octet });
      if (response.status !== 202) return await refused(response);
      const next = response.headers.get('location');
      if (next !== null) location = transport.registryUrl(next, response.url, 'an upload Location');
      response = await transport.send({ method: 'PUT', url: closing(location), body: new Uint8Array(), scopes, idempotent: false });
      if (response.status !== 201) throw transport.responseError(response, context);
    }
    checkStored(transport, repository, source.digest, response);
  } finally {
    await reader.close();
  }
}

/** The bytes a source gave for an upload are not the blob it named. */
function sourceMismatch(transport: RegistryTransport, repository: string, digest: string, actual: string): DigestMismatchError {
  return new DigestMismatchError(`upload blob: ${transport.host}/${repository}@${digest}: the source's content has digest ${actual}`, {
    host: transport.host,
    repository,
    reference: digest,
    expected: digest,
    actual,
  });
}

function checkStored(transport: RegistryTransport, repository: string, digest: string, response: TransportResponse): void {
  const stored = response.headers.get('docker-content-digest');
  if (stored !== null && stored !== digest) {
    throw new DigestMismatchError(`${transport.host}/${repository}: registry stored blob ${digest} as ${stored}`, {
      host: transport.host,
      repository,
      reference: digest,
      expected: digest,
      actual: stored,
    });
  }
}

/**
 * Read `source` from the start into an open session and close it with the digest. Blobs known to
 * fit `monolithicMaxBytes` go in one PUT; others in PATCHes of at most `chunkBytes`, one in
 * flight while the next is read, so no more than two chunks are held at a time (a blob of unknown
 * size that ends within its first chunk still goes in one PUT). The bytes are hashed on the way
 * and the closing PUT is sent only when they match: a source that fails, lies or runs long leaves
 * the session abandoned (DELETEd) and nothing stored. `progress.bytes` counts what was read, for the caller's tally.
 */
export async function completeUpload(
  transport: RegistryTransport,
  repository: string,
  start: URL,
  source: BlobSource,
  requested: UploadSizes,
  progress: { bytes: number } = { bytes: 0 },
  minChunkBytes?: number,
): Promise<void> {
  const sizes = { ...requested, chunkBytes: Math.max(requested.chunkBytes, minChunkBytes ?? 0) };
  const scopes: Scope[] = [{ repository, actions: ['pull', 'push'] }];
  const context = { action: 'upload blob', repository, reference: source.digest, notFound: 'blob' as const };
  const octet = { 'Content-Type': 'application/octet-stream' };
  const where = `${transport.host}/${repository}@${source.digest}`;
  let location = start;

  const patch = async (body: Uint8Array, offset: number): Promise<void> => {
    const response = await transport.send({
      method: 'PATCH',
      url: location,
      headers: { ...octet, 'Content-Range': `${offset}-${offset + body.length - 1}` },
      body,
      scopes,
      idempotent: false,
    });
    if (response.status !== 202) throw transport.responseError(response, context);
    const next = response.headers.get('location');
    if (next !== null) location = transport.registryUrl(next, response.url, 'an upload Location');
  };
  // One PATCH in flight while the next chunk is read: the source and the registry work at the
  // same time, with at most two chunks held. PATCHes still go one after the other (each answer
  // names the next Location), so `send` waits for the previous one first.
  let inflight: Promise<void> | undefined;
  const send = async (body: Uint8Array, offset: number): Promise<void> => {
    if (inflight !== undefined) await inflight;
    inflight = patch(body, offset);
    // Observed by the next send or before closing; this only keeps a failure from going unhandled meanwhile.
    inflight.catch(() => undefined);
  };
  // Failures of the source (not of this registry) leave a healthy session behind: cancel it.
  const abandon = async (error: unknown): Promise<never> => {
    await inflight?.catch(() => undefined);
    await transport.send({ method: 'DELETE', url: location, scopes, idempotent: false }).catch(() => undefined);
    throw error;
  };

  const reader: BlobReader = await source.open().catch(abandon);
  try {
    const expected = source.size ?? reader.size;
    const monolithic = expected !== undefined && expected <= sizes.monolithicMaxBytes;
    const limit = Math.min(source.size ?? Infinity, monolithic ? expected : Infinity);
    // Hashed once: here only when the reader does not verify its bytes itself.
    const hash = verifiedDigest(reader) === source.digest ? undefined : digestHasher(source.digest);
    const held: Uint8Array[] = [];
    let chunk: Uint8Array | undefined;
    let fill = 0;
    let patched = 0;
    const iterator = reader.chunks[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await iterator.next();
      } catch (error) {
        return abandon(error);
      }
      if (next.done === true) break;
      const piece = next.value;
      progress.bytes += piece.length;
      if (progress.bytes > limit) {
        return abandon(
          new RegistryError(`upload blob: ${where}: the source sent more than the ${limit} bytes ${limit === source.size ? 'its descriptor says' : 'it announced'}`, {
            host: transport.host,
            repository,
            reference: source.digest,
            code: 'E_REGISTRY_PROTOCOL',
          }),
        );
      }
      hash?.update(piece);
      if (monolithic) {
        held.push(piece);
        continue;
      }
      for (let offset = 0; offset < piece.length; ) {
        if (fill === 0 && piece.length - offset >= sizes.chunkBytes) {
          await send(piece.subarray(offset, offset + sizes.chunkBytes), patched);
          patched += sizes.chunkBytes;
          offset += sizes.chunkBytes;
          continue;
        }
        // A fresh buffer per chunk: the previous one may still be referenced by the request that sent it.
        chunk ??= new Uint8Array(sizes.chunkBytes);
        const take = Math.min(sizes.chunkBytes - fill, piece.length - offset);
        chunk.set(piece.subarray(offset, offset + take), fill);
        fill += take;
        offset += take;
        if (fill === sizes.chunkBytes) {
          await send(chunk, patched);
          patched += fill;
          chunk = undefined;
          fill = 0;
        }
      }
    }
    // A verifying reader has already thrown (above, from iterator.next) when its bytes did not match.
    const actual = hash?.digest() ?? source.digest;
    if (actual !== source.digest) {
      return abandon(sourceMismatch(transport, repository, source.digest, actual));
    }
    if (inflight !== undefined) await inflight;
    let finalBody: Uint8Array | undefined;
    if (monolithic) finalBody = concatBytes(held, progress.bytes);
    else if (patched === 0 && fill <= sizes.monolithicMaxBytes) finalBody = (chunk ?? new Uint8Array()).subarray(0, fill);
    else if (fill > 0) await patch((chunk as Uint8Array).subarray(0, fill), patched);

    const url = new URL(location);
    url.searchParams.set('digest', source.digest);
    const response = await transport.send({
      method: 'PUT',
      url,
      headers: finalBody === undefined ? {} : octet,
      body: finalBody ?? new Uint8Array(),
      scopes,
      idempotent: false,
    });
    if (response.status !== 201) throw transport.responseError(response, context);
    checkStored(transport, repository, source.digest, response);
  } finally {
    await reader.close();
  }
}

/** Worth opening a new session for: the connection failed, the registry hiccuped, or the session expired. */
export function isRetryableUploadFailure(error: unknown): boolean {
  if (!(error instanceof RegistryError)) return false;
  if (error.code === 'E_REGISTRY_NETWORK') return true;
  if (error.status !== undefined && RETRYABLE_STATUS.has(error.status)) return true;
  return error.ociCode === 'BLOB_UPLOAD_UNKNOWN' || error.status === 416;
}
