// Blob uploads (distribution spec "Pushing blobs"): POST to open a session, then either one PUT
// with the whole blob or PATCH chunks read from a stream and a closing PUT; or a
// cross-repository mount.

import { concatBytes } from './bytes.js';
import { digestHasher } from './digest.js';
import { DigestMismatchError, RegistryError } from './errors.js';
import { RETRYABLE_STATUS } from './retry.js';
import type { RegistryTransport, Scope } from './registry-transport.js';
import type { BlobReader, BlobSource } from './types.js';

export interface UploadSizes {
  /** Blobs up to this size go in one PUT. */
  monolithicMaxBytes: number;
  /** PATCH size for larger blobs. */
  chunkBytes: number;
}

export type StartedUpload = { mounted: true } | { mounted: false; location: URL };

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
  return { mounted: false, location: transport.registryUrl(location, response.url, 'an upload Location') };
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
  sizes: UploadSizes,
  progress: { bytes: number } = { bytes: 0 },
): Promise<void> {
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

  let reader: BlobReader;
  try {
    reader = await source.open();
  } catch (error) {
    return abandon(error);
  }
  try {
    const expected = source.size ?? reader.size;
    const monolithic = expected !== undefined && expected <= sizes.monolithicMaxBytes;
    const limit = Math.min(source.size ?? Infinity, monolithic ? expected : Infinity);
    const hash = digestHasher(source.digest);
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
      hash.update(piece);
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
    const actual = hash.digest();
    if (actual !== source.digest) {
      return abandon(
        new DigestMismatchError(`upload blob: ${where}: the source's content has digest ${actual}`, {
          host: transport.host,
          repository,
          reference: source.digest,
          expected: source.digest,
          actual,
        }),
      );
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
    const stored = response.headers.get('docker-content-digest');
    if (stored !== null && stored !== source.digest) {
      throw new DigestMismatchError(`${transport.host}/${repository}: registry stored blob ${source.digest} as ${stored}`, {
        host: transport.host,
        repository,
        reference: source.digest,
        expected: source.digest,
        actual: stored,
      });
    }
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
