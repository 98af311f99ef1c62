// Blob uploads (distribution spec "Pushing blobs"): POST to open a session, then either one PUT
// with the whole blob or PATCH chunks and a closing PUT; or a cross-repository mount.

import { DigestMismatchError, RegistryError } from './errors.js';
import { RETRYABLE_STATUS } from './retry.js';
import type { RegistryTransport, Scope } from './registry-transport.js';

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

/** Send the bytes into an open session and close it with the digest. */
export async function completeUpload(
  transport: RegistryTransport,
  repository: string,
  start: URL,
  blob: { digest: string; bytes: Uint8Array },
  sizes: UploadSizes,
): Promise<void> {
  const scopes: Scope[] = [{ repository, actions: ['pull', 'push'] }];
  const context = { action: 'upload blob', repository, reference: blob.digest, notFound: 'blob' as const };
  const octet = { 'Content-Type': 'application/octet-stream' };
  let location = start;
  let finalBody: Uint8Array | undefined = blob.bytes;
  if (blob.bytes.length > sizes.monolithicMaxBytes) {
    for (let offset = 0; offset < blob.bytes.length; ) {
      const end = Math.min(blob.bytes.length, offset + sizes.chunkBytes);
      const response = await transport.send({
        method: 'PATCH',
        url: location,
        headers: { ...octet, 'Content-Range': `${offset}-${end - 1}` },
        body: blob.bytes.subarray(offset, end),
        scopes,
        idempotent: false,
      });
      if (response.status !== 202) throw transport.responseError(response, context);
      const next = response.headers.get('location');
      if (next !== null) location = transport.registryUrl(next, response.url, 'an upload Location');
      offset = end;
    }
    finalBody = undefined;
  }
  const url = new URL(location);
  url.searchParams.set('digest', blob.digest);
  const response = await transport.send({
    method: 'PUT',
    url,
    headers: finalBody === undefined ? {} : octet,
    ...(finalBody === undefined ? { body: new Uint8Array() } : { body: finalBody }),
    scopes,
    idempotent: false,
  });
  if (response.status !== 201) throw transport.responseError(response, context);
  const stored = response.headers.get('docker-content-digest');
  if (stored !== null && stored !== blob.digest) {
    throw new DigestMismatchError(`${transport.host}/${repository}: registry stored blob ${blob.digest} as ${stored}`, {
      host: transport.host,
      repository,
      reference: blob.digest,
      expected: blob.digest,
      actual: stored,
    });
  }
}

/** Worth opening a new session for: the connection failed, the registry hiccuped, or the session expired. */
export function isRetryableUploadFailure(error: unknown): boolean {
  if (!(error instanceof RegistryError)) return false;
  if (error.code === 'E_REGISTRY_NETWORK') return true;
  if (error.status !== undefined && RETRYABLE_STATUS.has(error.status)) return true;
  return error.ociCode === 'BLOB_UPLOAD_UNKNOWN' || error.status === 416;
}
