import type { Platform, Registry, StoredManifest } from '../types.js';

/**
 * A blob an image needs. Blobs built here carry their `bytes`; blobs inherited from a base image
 * carry where to read them (`source`) instead, so pushing to a registry that already has them
 * never downloads them.
 */
export interface ImageBlob {
  mediaType: string;
  digest: string;
  size: number;
  bytes?: Uint8Array;
  /** A file holding the blob's bytes (a layer the builder spooled to disk), read when it is pushed. */
  path?: string;
  source?: { registry: Registry; repository: string };
}

/** An image in memory, ready for `pushImage`: a manifest and everything it references. */
export interface ImageContent {
  manifest: StoredManifest;
  /** Absent for an index. */
  config?: ImageBlob;
  layers?: readonly ImageBlob[];
  /** The platform manifests of an index, each pushed (by digest) before the index. */
  children?: readonly ImageContent[];
}

/** One platform's image as the `layer` builder produces it. */
export interface BuiltImage extends ImageContent {
  config: ImageBlob & { bytes: Uint8Array };
  layers: readonly ImageBlob[];
  /** sha256 of our layer's uncompressed tar: stable even where gzip output is not. */
  diffId: string;
  platform: Platform;
}

/**
 * What `buildLayerImages` produces: for one platform, that image's manifest (with its config and
 * layers); for several, an OCI index whose `children` are the platform images.
 */
export interface BuiltLayerImages extends ImageContent {
  /** Every platform's image, in index order (the one image when there is one platform). */
  images: readonly BuiltImage[];
  /** sha256 of our layer's uncompressed tar, the same in every image. */
  diffId: string;
}
