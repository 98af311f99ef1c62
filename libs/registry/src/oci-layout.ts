// The `Registry` port on an OCI image layout folder (image-layout spec v1.0): the embedded default
// when no registry is configured.
//
// Layout: `oci-layout:<dir>` holds one image layout per repository at `<dir>/<repository>/`
// (`oci-layout`, `index.json`, `blobs/sha256/<hex>`), so `skopeo inspect oci:<dir>/api:v1.2.3`
// and `crane` read it directly. Tags are `org.opencontainers.image.ref.name` annotations on
// index.json entries; a manifest stored by digest only lands in the blob store (resolvable by
// digest, not listed in index.json).
//
// Writes are atomic: every file is written to a temporary name in the same folder, fsynced, then
// renamed over its destination. Updates to index.json are read-modify-write under a lock file
// (`index.json.lock`, created with O_EXCL, holding `<host> <pid>`), so concurrent taggers — in
// this process or others on the same host — never lose each other's tag. A lock left by a dead
// process on this host is broken; one held by a live process is waited for, then reported. The
// lock only works between processes that see the same folder on one host (not NFS across hosts).
//
// Errors match the HTTP client's where the meaning is the same (NotFoundError with kind
// name/manifest/blob, DigestMismatchError — every blob read is hashed); layout-specific failures
// are OciLayoutError.

import { markOciOnly } from './oci-only.js';
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { verifyingReader } from './blob-stream.js';
import { concatBytes } from '@slipway/redact';
import { isRetryableUploadFailure } from './blob-upload.js';
import { computeDigest, digestHasher } from './digest.js';
import { DigestMismatchError, NotFoundError, RegistryError } from './errors.js';
import { MAX_BLOB_IN_MEMORY, MAX_MANIFEST_BYTES, MAX_SMALL_BODY_BYTES, MAX_TAG_LIST_BYTES } from './limits.js';
import { MediaTypes, type BlobSource, type Descriptor, type StoredManifest, type StreamingRegistry } from './types.js';

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

export type OciLayoutErrorCode =
  | 'E_OCI_LAYOUT_INVALID_NAME'
  | 'E_OCI_LAYOUT_MANIFEST_INVALID'
  | 'E_OCI_LAYOUT_BLOB_UNKNOWN'
  | 'E_OCI_LAYOUT_CORRUPT'
  | 'E_OCI_LAYOUT_LOCKED'
  | 'E_OCI_LAYOUT_TOO_LARGE'
  | 'E_OCI_LAYOUT_SIZE_MISMATCH'
  | 'E_OCI_LAYOUT_NOT_A_FILE';

/** A layout is a folder the user names: files it cannot hold are bad input (exit 2), like a bad name. */
const BAD_INPUT_CODES: ReadonlySet<OciLayoutErrorCode> = new Set([
  'E_OCI_LAYOUT_INVALID_NAME',
  'E_OCI_LAYOUT_MANIFEST_INVALID',
  'E_OCI_LAYOUT_TOO_LARGE',
  'E_OCI_LAYOUT_SIZE_MISMATCH',
  'E_OCI_LAYOUT_NOT_A_FILE',
]);

export class OciLayoutError extends Error {
  override readonly name = 'OciLayoutError';
  readonly code: OciLayoutErrorCode;
  readonly exitCode: 1 | 2;
  /** The layout folder of the repository concerned. */
  readonly path: string;
  readonly repository: string;
  readonly reference: string | undefined;

  constructor(
    code: OciLayoutErrorCode,
    message: string,
    details: { path: string; repository: string; reference?: string; cause?: unknown },
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.exitCode = BAD_INPUT_CODES.has(code) ? 2 : 1;
    this.path = details.path;
    this.repository = details.repository;
    this.reference = details.reference;
  }
}

export interface OciLayoutOptions {
  /** How long to wait for another writer's index.json lock, in attempts of ≤50 ms. Default 400 (~20 s). */
  lockAttempts?: number;
  /** pushBlobFrom: reads of a source that breaks off (a reset download) in all, the first included. Default 5. */
  sourceAttempts?: number;
}

const REPOSITORY_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
// Names a nested repository cannot take, because its parent repository's layout uses them.
const RESERVED_COMPONENTS = new Set(['blobs', 'index.json', 'oci-layout']);
const MANIFEST_TYPES = new Set<string>([MediaTypes.ociIndex, MediaTypes.ociManifest, MediaTypes.dockerManifestList, MediaTypes.dockerManifest]);

interface IndexJson {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
  [key: string]: unknown;
}

/** Open (lazily creating on first write) the OCI image layout store rooted at `dir`. */
export function openOciLayout(dir: string, options: OciLayoutOptions = {}): StreamingRegistry & { readonly host: string } {
  const lockAttempts = options.lockAttempts ?? 400;
  const sourceAttempts = Math.max(1, options.sourceAttempts ?? 5);
  // How errors name this store, in the place a registry host goes.
  const host = `oci-layout:${dir}`;
  const queues = new Map<string, Promise<unknown>>();

  function repoDir(repository: string): string {
    if (!REPOSITORY_RE.test(repository) || repository.split('/').slice(1).some((c) => RESERVED_COMPONENTS.has(c))) {
      throw new OciLayoutError('E_OCI_LAYOUT_INVALID_NAME', `invalid repository name ${JSON.stringify(repository)}`, {
        path: dir,
        repository,
      });
    }
    return join(dir, ...repository.split('/'));
  }

  function blobPath(root: string, repository: string, digest: string): string {
    if (!DIGEST_RE.test(digest)) {
      throw new OciLayoutError('E_OCI_LAYOUT_INVALID_NAME', `invalid digest ${JSON.stringify(digest)} (only sha256 is supported)`, {
        path: root,
        repository,
        reference: digest,
      });
    }
    return join(root, 'blobs', 'sha256', digest.slice('sha256:'.length));
  }

  /**
   * A layout file read into memory, never more than `max` bytes of it (a huge or endless file —
   * a sparse file, a link to /dev/zero — is refused, not read), and exactly `size` bytes when a
   * descriptor declares them. Undefined when the file does not exist.
   */
  async function readLayoutFile(root: string, repository: string, path: string, bounds: { max: number; size?: number | undefined; what: string }): Promise<Uint8Array | undefined> {
    const { max, size, what } = bounds;
    const fail = (code: OciLayoutErrorCode, message: string) => new OciLayoutError(code, message, { path: root, repository });
    if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) {
      throw fail('E_OCI_LAYOUT_SIZE_MISMATCH', `${path}: the descriptor's size ${String(size)} is not a byte count`);
    }
    if (size !== undefined && size > max) {
      throw fail('E_OCI_LAYOUT_TOO_LARGE', `${path}: its descriptor declares ${size} bytes, more than the ${max} ${article(what)} is read with; not a valid ${what}`);
    }
    const read = await readFileBounded(path, Math.min(max, size ?? max));
    if (read === undefined) return undefined;
    if (read.special) throw fail('E_OCI_LAYOUT_NOT_A_FILE', `${path} is not a regular file (a device, a pipe or a folder); a layout holds only files`);
    if (read.over) {
      if (size !== undefined && size < max) {
        throw fail('E_OCI_LAYOUT_SIZE_MISMATCH', `${path} holds more than the ${size} bytes its descriptor declares: the layout is corrupt`);
      }
      throw fail('E_OCI_LAYOUT_TOO_LARGE', `${path} is larger than ${max} bytes, the most ${article(what)} is read with; not a valid ${what}`);
    }
    if (size !== undefined && read.bytes.length !== size) {
      throw fail('E_OCI_LAYOUT_SIZE_MISMATCH', `${path} has ${read.bytes.length} bytes, not the ${size} its descriptor declares: the layout is corrupt`);
    }
    return read.bytes;
  }

  /** A blob read with `bounds` (see readLayoutFile) whose content must hash to `digest`. */
  async function readVerified(root: string, repository: string, digest: string, bounds: { max: number; size?: number | undefined; what: string }): Promise<Uint8Array | undefined> {
    const bytes = await readLayoutFile(root, repository, blobPath(root, repository, digest), bounds);
    if (bytes === undefined) return undefined;
    const actual = computeDigest(bytes);
    if (actual !== digest) {
      throw new DigestMismatchError(`blob ${digest} in ${root} has digest ${actual}: the layout is corrupt`, {
        host,
        repository,
        reference: digest,
        expected: digest,
        actual,
      });
    }
    return bytes;
  }

  async function readIndex(root: string, repository: string): Promise<IndexJson | undefined> {
    const bytes = await readLayoutFile(root, repository, join(root, 'index.json'), { max: MAX_TAG_LIST_BYTES, what: 'index.json' });
    if (bytes === undefined) return undefined;
    try {
      const parsed = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
      if (!isObject(parsed) || parsed['schemaVersion'] !== 2 || !Array.isArray(parsed['manifests'])) throw new Error('not an OCI image index');
      return parsed as IndexJson;
    } catch (cause) {
      throw new OciLayoutError('E_OCI_LAYOUT_CORRUPT', `${join(root, 'index.json')} is not a valid image index`, { path: root, repository, cause });
    }
  }

  async function ensureLayout(root: string, repository: string): Promise<void> {
    const marker = await readLayoutFile(root, repository, join(root, 'oci-layout'), { max: MAX_SMALL_BODY_BYTES, what: 'oci-layout file' });
    if (marker !== undefined) {
      let version: unknown;
      try {
        version = (JSON.parse(new TextDecoder().decode(marker)) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
      } catch {
        version = undefined;
      }
      if (version !== '1.0.0') {
        throw new OciLayoutError('E_OCI_LAYOUT_CORRUPT', `${join(root, 'oci-layout')} does not declare imageLayoutVersion 1.0.0`, { path: root, repository });
      }
      return;
    }
    await mkdir(join(root, 'blobs', 'sha256'), { recursive: true });
    await createIfAbsent(root, 'index.json', json({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [] }));
    // Written last: its presence says the layout is complete.
    await createIfAbsent(root, 'oci-layout', json({ imageLayoutVersion: '1.0.0' }));
  }

  /** Copy `source` into a temporary file while hashing it; only bytes that match its digest are renamed to `path`. */
  async function streamIntoPlace(root: string, repository: string, path: string, source: BlobSource, progress: { bytes: number }): Promise<void> {
    // The temporary file goes beside the layout, never under blobs/: a reader must not see it.
    await mkdir(root, { recursive: true });
    const temp = join(root, `.tmp-${randomBytes(8).toString('hex')}`);
    const handle = await open(temp, 'wx');
    let placed = false;
    try {
      const reader = await source.open();
      try {
        const hash = digestHasher(source.digest);
        for await (const piece of reader.chunks) {
          progress.bytes += piece.length;
          if (source.size !== undefined && progress.bytes > source.size) {
            throw new RegistryError(`blob ${source.digest} for ${root}: the source sent more than the ${source.size} bytes its descriptor says`, {
              host,
              repository,
              reference: source.digest,
              code: 'E_REGISTRY_PROTOCOL',
            });
          }
          hash.update(piece);
          for (let offset = 0; offset < piece.length; ) offset += (await handle.write(piece, offset)).bytesWritten;
        }
        const actual = hash.digest();
        if (actual !== source.digest) {
          throw new DigestMismatchError(`blob ${source.digest} for ${root}: the source's content has digest ${actual}`, {
            host,
            repository,
            reference: source.digest,
            expected: source.digest,
            actual,
          });
        }
      } finally {
        await reader.close();
      }
      await handle.sync();
      await handle.close();
      await ensureLayout(root, repository);
      await rename(temp, path);
      placed = true;
    } finally {
      if (!placed) {
        await handle.close().catch(() => undefined);
        await unlink(temp).catch(() => undefined);
      }
    }
  }

  async function writeBlob(root: string, repository: string, digest: string, bytes: Uint8Array): Promise<void> {
    const target = blobPath(root, repository, digest);
    if (await exists(target)) return;
    await ensureLayout(root, repository);
    await atomicWrite(root, target, bytes);
  }

  /** Serialize index.json updates: in-process through a promise chain, across processes by the lock file. */
  async function updateIndex(root: string, repository: string, update: (index: IndexJson) => IndexJson): Promise<void> {
    const previous = queues.get(root) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(async () => {
      await ensureLayout(root, repository);
      const release = await acquireLock(root, repository, lockAttempts);
      try {
        const index = (await readIndex(root, repository)) ?? { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [] };
        await atomicWrite(root, join(root, 'index.json'), json(update(index)));
      } finally {
        await release();
      }
    });
    queues.set(root, run);
    try {
      await run;
    } finally {
      if (queues.get(root) === run) queues.delete(root);
    }
  }

  async function findTag(root: string, repository: string, tag: string): Promise<Descriptor | undefined> {
    const index = await readIndex(root, repository);
    if (!index) return undefined;
    // The last entry wins, matching the order our writer appends in.
    const entries = index.manifests.filter((m) => m.annotations?.[REF_NAME_ANNOTATION] === tag);
    return entries[entries.length - 1];
  }

  function checkReference(root: string, repository: string, reference: string): 'tag' | 'digest' {
    if (DIGEST_RE.test(reference)) return 'digest';
    if (TAG_RE.test(reference)) return 'tag';
    throw new OciLayoutError('E_OCI_LAYOUT_INVALID_NAME', `invalid tag or digest ${JSON.stringify(reference)}`, { path: root, repository, reference });
  }

  // `host` names the store in errors (guardTag's ImmutableTagError reads it), like a registry host.
  const registry: StreamingRegistry & { readonly host: string } = {
    host,
    async resolve(repository, reference) {
      const root = repoDir(repository);
      if (checkReference(root, repository, reference) === 'tag') {
        const entry = await findTag(root, repository, reference);
        if (!entry) return undefined;
        const info = await statIfExists(blobPath(root, repository, entry.digest));
        if (!info) {
          throw new OciLayoutError('E_OCI_LAYOUT_CORRUPT', `tag ${reference} in ${root} points to ${entry.digest}, which is missing`, {
            path: root,
            repository,
            reference,
          });
        }
        // A size that differs from the descriptor's is caught here (a changed manifest by its
        // digest, a wrong descriptor by its size); same-size changes on read.
        if (info.size !== entry.size) {
          await readVerified(root, repository, entry.digest, { max: MAX_MANIFEST_BYTES, what: 'manifest' });
          await readLayoutFile(root, repository, blobPath(root, repository, entry.digest), { max: MAX_MANIFEST_BYTES, size: entry.size, what: 'manifest' });
        }
        return { mediaType: entry.mediaType, digest: entry.digest, size: entry.size };
      }
      const info = await statIfExists(blobPath(root, repository, reference));
      if (!info || info.size > MAX_MANIFEST_BYTES) return undefined;
      const bytes = await readVerified(root, repository, reference, { max: MAX_MANIFEST_BYTES, what: 'manifest' });
      if (!bytes) return undefined;
      const mediaType = manifestMediaType(bytes);
      return mediaType ? { mediaType, digest: reference, size: bytes.length } : undefined;
    },

    async getManifest(repository, reference) {
      const root = repoDir(repository);
      const descriptor = await registry.resolve(repository, reference);
      if (!descriptor) {
        const kind = (await exists(join(root, 'index.json'))) ? 'manifest' : 'name';
        throw new NotFoundError(
          kind === 'name' ? `repository ${repository} not found in ${dir}` : `manifest ${repository}:${reference} not found in ${root}`,
          { host, repository, reference, kind },
        );
      }
      const bytes = await readVerified(root, repository, descriptor.digest, { max: MAX_MANIFEST_BYTES, size: descriptor.size, what: 'manifest' });
      if (!bytes) {
        throw new NotFoundError(`manifest ${repository}@${descriptor.digest} vanished from ${root}`, { host, repository, reference, kind: 'manifest' });
      }
      return { mediaType: descriptor.mediaType, digest: descriptor.digest, bytes } satisfies StoredManifest;
    },

    async putManifest(repository, reference, manifest) {
      const root = repoDir(repository);
      const kind = checkReference(root, repository, reference);
      const digest = computeDigest(manifest.bytes);
      if (kind === 'digest' && reference !== digest) {
        throw new DigestMismatchError(`manifest bytes have digest ${digest}, not ${reference}`, { host, repository, reference, expected: reference, actual: digest });
      }
      const invalid = (why: string, cause?: unknown): OciLayoutError =>
        new OciLayoutError('E_OCI_LAYOUT_MANIFEST_INVALID', `manifest for ${repository}:${reference} is invalid: ${why}`, { path: root, repository, reference, cause });
      if (!MANIFEST_TYPES.has(manifest.mediaType)) throw invalid(`unsupported media type ${manifest.mediaType}`);
      if (manifest.bytes.length > MAX_MANIFEST_BYTES) throw invalid(`larger than ${MAX_MANIFEST_BYTES} bytes`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(new TextDecoder().decode(manifest.bytes));
      } catch (cause) {
        throw invalid('not JSON', cause);
      }
      if (!isObject(parsed)) throw invalid('not a JSON object');
      if (typeof parsed['mediaType'] === 'string' && parsed['mediaType'] !== manifest.mediaType) {
        throw invalid(`its mediaType field says ${parsed['mediaType']} but it was stored as ${manifest.mediaType}`);
      }
      // Like a registry, refuse a manifest whose content is not all here yet: a tag must never
      // point to an image that cannot be pulled.
      for (const needed of referencedDigests(parsed)) {
        if (!(await exists(blobPath(root, repository, needed)))) {
          throw new OciLayoutError('E_OCI_LAYOUT_BLOB_UNKNOWN', `manifest for ${repository}:${reference} references ${needed}, which is not in ${root}`, {
            path: root,
            repository,
            reference,
          });
        }
      }
      await writeBlob(root, repository, digest, manifest.bytes);
      if (kind === 'tag') {
        const entry: Descriptor = {
          mediaType: manifest.mediaType,
          digest,
          size: manifest.bytes.length,
          annotations: { [REF_NAME_ANNOTATION]: reference },
        };
        await updateIndex(root, repository, (index) => ({
          ...index,
          manifests: [...index.manifests.filter((m) => m.annotations?.[REF_NAME_ANNOTATION] !== reference), entry],
        }));
      }
      return digest;
    },

    async hasBlob(repository, digest) {
      const root = repoDir(repository);
      return exists(blobPath(root, repository, digest));
    },

    async getBlob(repository, digest, options = {}) {
      const root = repoDir(repository);
      // Exactly the declared size when the caller knows it, and never more than the registry client reads into memory.
      const bytes = await readVerified(root, repository, digest, { max: MAX_BLOB_IN_MEMORY, size: options.size, what: 'blob read into memory' });
      if (!bytes) throw new NotFoundError(`blob ${digest} not found in ${root}`, { host, repository, reference: digest, kind: 'blob' });
      return bytes;
    },

    async pushBlob(repository, blob) {
      const root = repoDir(repository);
      const path = blobPath(root, repository, blob.digest);
      const actual = computeDigest(blob.bytes);
      if (actual !== blob.digest) {
        throw new DigestMismatchError(`blob bytes have digest ${actual}, not ${blob.digest}`, {
          host,
          repository,
          reference: blob.digest,
          expected: blob.digest,
          actual,
        });
      }
      if (await exists(path)) return;
      await writeBlob(root, repository, blob.digest, blob.bytes);
    },

    async openBlob(repository, digest) {
      const root = repoDir(repository);
      const path = blobPath(root, repository, digest);
      let handle: FileHandle;
      try {
        handle = await open(path, 'r');
      } catch (error) {
        if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) throw new NotFoundError(`blob ${digest} not found in ${root}`, { host, repository, reference: digest, kind: 'blob' });
        throw error;
      }
      let size: number;
      try {
        size = (await handle.stat()).size;
      } catch (error) {
        await handle.close();
        throw error;
      }
      return verifyingReader({
        digest,
        size,
        pieces: readPieces(handle, size),
        close: () => handle.close(),
        mismatch: (actual) =>
          new DigestMismatchError(`blob ${digest} in ${root} has digest ${actual}: the layout is corrupt`, { host, repository, reference: digest, expected: digest, actual }),
      });
    },

    async pushBlobFrom(repository, source) {
      const root = repoDir(repository);
      const path = blobPath(root, repository, source.digest);
      if (await exists(path)) return { outcome: 'present', bytes: 0 };
      for (let attempt = 1; ; attempt++) {
        const progress = { bytes: 0 };
        try {
          await streamIntoPlace(root, repository, path, source, progress);
          return { outcome: 'uploaded', bytes: progress.bytes };
        } catch (error) {
          // A download that broke off is started again; the source's own retries pace it.
          if (!isRetryableUploadFailure(error) || attempt >= sourceAttempts) throw error;
        }
      }
    },

    async listTags(repository) {
      const root = repoDir(repository);
      const index = await readIndex(root, repository);
      if (!index) return [];
      const tags = new Set<string>();
      for (const m of index.manifests) {
        const name = m.annotations?.[REF_NAME_ANNOTATION];
        if (name !== undefined && TAG_RE.test(name)) tags.add(name);
      }
      return [...tags].sort();
    },
  };
  return markOciOnly(registry);
}

function referencedDigests(manifest: Record<string, unknown>): string[] {
  const digests: string[] = [];
  const add = (d: unknown): void => {
    if (isObject(d) && typeof d['digest'] === 'string' && !Array.isArray(d['urls'])) digests.push(d['digest']);
  };
  if (Array.isArray(manifest['manifests'])) manifest['manifests'].forEach(add);
  if (manifest['config'] !== undefined) add(manifest['config']);
  if (Array.isArray(manifest['layers'])) manifest['layers'].forEach(add);
  return digests;
}

function manifestMediaType(bytes: Uint8Array): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
  if (!isObject(parsed)) return undefined;
  const declared = parsed['mediaType'];
  if (typeof declared === 'string') return MANIFEST_TYPES.has(declared) ? declared : undefined;
  // mediaType is optional in OCI manifests; tell them apart by shape.
  if (Array.isArray(parsed['manifests'])) return MediaTypes.ociIndex;
  if (isObject(parsed['config']) && Array.isArray(parsed['layers'])) return MediaTypes.ociManifest;
  return undefined;
}

async function acquireLock(root: string, repository: string, attempts: number): Promise<() => Promise<void>> {
  const lockPath = join(root, 'index.json.lock');
  const owner = `${hostname()} ${process.pid}\n`;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      const handle = await open(lockPath, 'wx');
      try {
        await handle.writeFile(owner);
      } finally {
        await handle.close();
      }
      return () => unlink(lockPath).catch(() => undefined);
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw error;
    }
    const holder = await readLock(lockPath);
    if (holder !== undefined && isStale(new TextDecoder().decode(holder))) {
      // Re-read just before breaking so a lock that changed hands in between is left alone.
      const again = await readLock(lockPath);
      if (again !== undefined && Buffer.from(again).equals(Buffer.from(holder))) await unlink(lockPath).catch(() => undefined);
      continue;
    }
    await delay(Math.min(50, 1 + attempt * 2));
  }
  const holder = await readLock(lockPath);
  throw new OciLayoutError(
    'E_OCI_LAYOUT_LOCKED',
    `index.json in ${root} is locked by ${holder ? new TextDecoder().decode(holder).trim() : 'another writer'}; remove ${lockPath} if that process is gone`,
    { path: root, repository },
  );
}

function isStale(content: string): boolean {
  const [host, pidText] = content.trim().split(' ');
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return isErrno(error, 'ESRCH');
  }
}

/** Writes `bytes` to a new temporary file in `root`, synced to disk; returns its path. */
async function writeTemp(root: string, bytes: Uint8Array): Promise<string> {
  const temp = join(root, `.tmp-${randomBytes(8).toString('hex')}`);
  const handle = await open(temp, 'wx');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return temp;
}

async function atomicWrite(root: string, target: string, bytes: Uint8Array): Promise<void> {
  const temp = await writeTemp(root, bytes);
  try {
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** Create `root/name` with `bytes` unless it exists; never exposes a half-written file. */
async function createIfAbsent(root: string, name: string, bytes: Uint8Array): Promise<void> {
  const temp = await writeTemp(root, bytes);
  try {
    await link(temp, join(root, name));
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

const READ_PIECE_BYTES = 1024 * 1024;

async function* readPieces(handle: FileHandle, size: number): AsyncGenerator<Uint8Array> {
  for (let read = 0; ; ) {
    // A new buffer per piece: the consumer may still hold the previous one. Reading goes on past
    // the size found when opening, so a file that grew is noticed (by its digest).
    const buffer = new Uint8Array(read < size ? Math.min(READ_PIECE_BYTES, size - read) : 64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
    if (bytesRead === 0) return;
    read += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}

/**
 * Up to `max` bytes of a regular file: `over` when it holds more (found by its size, or by reading
 * one byte past `max` from a file that grows), `special` for a device, a pipe or a folder (/dev/zero
 * would never end), which is not read at all. Undefined when it does not exist.
 */
async function readFileBounded(path: string, max: number): Promise<{ bytes: Uint8Array; over: boolean; special: boolean } | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return undefined;
    throw error;
  }
  const refused = (special: boolean) => ({ bytes: new Uint8Array(), over: !special, special });
  try {
    const info = await handle.stat();
    if (!info.isFile()) return refused(true);
    if (info.size > max) return refused(false);
    // One byte more than its size, to see the end; a file that grew since is read on in pieces, to max + 1 at most.
    const pieces: Uint8Array[] = [];
    let total = 0;
    for (let room = info.size + 1; ; room = Math.min(READ_PIECE_BYTES, max + 1 - total)) {
      if (room <= 0) return refused(false);
      const piece = new Uint8Array(room);
      let filled = 0;
      while (filled < room) {
        const { bytesRead } = await handle.read(piece, filled, room - filled, null);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      pieces.push(piece.subarray(0, filled));
      total += filled;
      if (total > max) return refused(false);
      if (filled < room) return { bytes: concatBytes(pieces, total), over: false, special: false };
    }
  } finally {
    await handle.close();
  }
}

/** A lock file's owner line; a lock file too large to be one names no owner. */
async function readLock(path: string): Promise<Uint8Array | undefined> {
  const read = await readFileBounded(path, MAX_SMALL_BODY_BYTES);
  return read === undefined || read.over ? undefined : read.bytes;
}

async function statIfExists(path: string): Promise<{ size: number } | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return undefined;
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  return (await statIfExists(path)) !== undefined;
}

function json(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

const article = (what: string): string => `${/^[aeiou]/i.test(what) ? 'an' : 'a'} ${what}`;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
