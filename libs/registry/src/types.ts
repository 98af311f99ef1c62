// The registry port: what publish, promote and the builders need from a place that stores
// images. Implemented over HTTP by the OCI distribution client and on disk by the OCI image
// layout store, so every caller works against either.

export const MediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

/** Every manifest media type we accept, in the order we ask for them. */
export const MANIFEST_ACCEPT = [
  MediaTypes.ociIndex,
  MediaTypes.ociManifest,
  MediaTypes.dockerManifestList,
  MediaTypes.dockerManifest,
] as const;

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

/** An OCI content descriptor. */
export interface Descriptor {
  mediaType: string;
  /** `sha256:<64 hex>` */
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

/** A manifest exactly as stored: its bytes are what the digest covers. */
export interface StoredManifest {
  mediaType: string;
  digest: string;
  bytes: Uint8Array;
}

/**
 * A parsed image reference. `registry` is a host (`ghcr.io`, `127.0.0.1:5000`) or
 * `oci-layout:<dir>` for the on-disk store.
 */
export interface ImageRef {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/**
 * A blob being read, start to end, once. Iterating `chunks` to the end verifies the bytes against
 * the digest asked for: the last step throws DigestMismatchError instead of finishing, so a
 * consumer that commits only after the loop ends never commits wrong bytes.
 */
export interface BlobReader {
  /** What the source announced (Content-Length, the file's size); undefined when it did not say. */
  readonly size: number | undefined;
  readonly chunks: AsyncIterable<Uint8Array>;
  /** Release the connection or file; safe to call at any time, more than once. */
  close(): Promise<void>;
}

/**
 * A blob that can be read again from the start: what a streaming push takes, so a transfer that
 * fails halfway can start over from the source.
 */
export interface BlobSource {
  digest: string;
  /** The descriptor's size, when known: a source that yields more bytes fails at once. */
  size?: number;
  /** Start reading from the first byte; called again for every restart. */
  open(): Promise<BlobReader>;
}

export type BlobPushOutcome = 'present' | 'mounted' | 'uploaded';

export interface BlobPushResult {
  outcome: BlobPushOutcome;
  /** Bytes of the blob sent in the attempt that stored it; 0 when nothing had to be sent. */
  bytes: number;
}

export interface Registry {
  /** Where `reference` (tag or digest) points now; `undefined` only when the registry says it is absent (404). */
  resolve(repository: string, reference: string): Promise<Descriptor | undefined>;
  /** The manifest's bytes, verified against the digest requested or returned. */
  getManifest(repository: string, reference: string): Promise<StoredManifest>;
  /** Store a manifest under a tag or its digest; returns its digest. */
  putManifest(repository: string, reference: string, manifest: { mediaType: string; bytes: Uint8Array }): Promise<string>;
  hasBlob(repository: string, digest: string): Promise<boolean>;
  /**
   * A whole blob in memory, verified against `digest`. `size` is the descriptor's declared size:
   * a body larger than that is an error. Blobs over 64 MiB are refused; stream them (openBlob).
   */
  getBlob(repository: string, digest: string, options?: { size?: number }): Promise<Uint8Array>;
  /** Upload a blob unless already present. */
  pushBlob(repository: string, blob: { digest: string; bytes: Uint8Array }): Promise<void>;
  /** Every tag of the repository, across every page. */
  listTags(repository: string): Promise<string[]>;
  /**
   * Stream a blob instead of holding it (both implementations have it; copyImage falls back to
   * getBlob/pushBlob for a Registry without it). NotFoundError kind `blob` when it is absent.
   */
  openBlob?(repository: string, digest: string): Promise<BlobReader>;
  /**
   * Store a blob read from `source` unless already present, holding at most two upload chunks of it
   * at a time. The bytes are hashed on the way: a source that does not match `digest` (or yields
   * more than `size`) fails with DigestMismatchError / E_REGISTRY_PROTOCOL and nothing is stored.
   * A transfer that fails in a way worth retrying re-opens the source and starts again.
   */
  pushBlobFrom?(repository: string, source: BlobSource): Promise<BlobPushResult>;
}

/** A Registry that streams blobs both ways. */
export type StreamingRegistry = Registry & Required<Pick<Registry, 'openBlob' | 'pushBlobFrom'>>;
