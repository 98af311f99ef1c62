// Push an image (built in memory, spooled to a file, or referencing a base's blobs) and tag it, never moving an existing tag.
//
// Order matters for crash safety: blobs first, then child manifests and the manifest by digest,
// and a tag only once everything it needs is present, so a tag never names an image that cannot
// be pulled. Re-running after a crash finishes the job: present blobs are skipped, a tag already
// pointing at our digest is left as is.
//
// The guard is check-then-write: the Registry port has no conditional put, so two releases racing
// for the same new tag within that window can still collide (the last write wins). Tag names are
// per version and written by one CI job, which keeps that window theoretical in practice.

import type { ImageBlob, ImageContent } from './builders/image.js';
import { DigestMismatchError, RegistryError } from './errors.js';
import { readFile } from 'node:fs/promises';
import { canOpenBlobs, canPushBlobsFrom, countingSource, fileBlobSource, registryBlobSource } from './blob-stream.js';
import type { BlobProgress } from './copy-image.js';
import type { BlobSource } from './types.js';
import { guardTag } from './guard-tag.js';
import type { Registry } from './types.js';

export interface PushProgress {
  /** The blob just uploaded. */
  digest: string;
  /** Its size. */
  bytes: number;
  /** Bytes uploaded so far in this push, and the total that needed uploading. */
  pushedBytes: number;
  totalBytes: number;
}

export interface PushImageOptions {
  registry: Registry;
  repository: string;
  image: ImageContent;
  tags: readonly string[];
  /** After each blob uploaded. */
  onProgress?: (progress: PushProgress) => void;
  /** As blob bytes move (for a progress display): when a blob starts and as each piece of it is sent. */
  onBlobProgress?: (progress: BlobProgress) => void;
}

export interface PushImageResult {
  digest: string;
  /** Every requested tag; each now points to `digest`. */
  tags: string[];
  /** The tags this call wrote (the others already pointed to `digest`). */
  tagsWritten: string[];
  pushed: { blobs: number; bytes: number };
}

/** Push `image` to `repository` and point each of `tags` at it; refuses to move a tag. */
export async function pushImage(options: PushImageOptions): Promise<PushImageResult> {
  const { registry, repository, image } = options;
  const digest = image.manifest.digest;
  const tags = [...new Set(options.tags)];

  // Refuse before uploading anything when a tag is already taken by another image.
  const tagsToWrite: string[] = [];
  for (const tag of tags) if ((await guardTag(registry, repository, tag, digest)) === 'absent') tagsToWrite.push(tag);

  const missing: ImageBlob[] = [];
  const seen = new Set<string>();
  for (const blob of allBlobs(image)) {
    if (seen.has(blob.digest)) continue;
    seen.add(blob.digest);
    if (!(await registry.hasBlob(repository, blob.digest))) missing.push(blob);
  }
  const totalBytes = missing.reduce((sum, b) => sum + b.size, 0);
  let pushedBytes = 0;
  for (const blob of missing) {
    const bytes = await pushOne(registry, repository, blob, options.onBlobProgress);
    pushedBytes += bytes;
    options.onProgress?.({ digest: blob.digest, bytes, pushedBytes, totalBytes });
  }

  for (const child of image.children ?? []) await putByDigest(registry, repository, child);
  await putByDigest(registry, repository, image);

  const tagsWritten: string[] = [];
  for (const tag of tagsToWrite) {
    // Checked again right before writing: another release may have taken the tag meanwhile.
    if ((await guardTag(registry, repository, tag, digest)) === 'same') continue;
    const written = await registry.putManifest(repository, tag, { mediaType: image.manifest.mediaType, bytes: image.manifest.bytes });
    if (written !== digest) {
      throw new DigestMismatchError(`registry stored ${repository}:${tag} as ${written}, expected ${digest}`, { repository, reference: tag, expected: digest, actual: written });
    }
    tagsWritten.push(tag);
  }
  return { digest, tags, tagsWritten, pushed: { blobs: missing.length, bytes: pushedBytes } };
}

async function putByDigest(registry: Registry, repository: string, image: ImageContent): Promise<void> {
  const { manifest } = image;
  if (await registry.resolve(repository, manifest.digest)) return;
  const written = await registry.putManifest(repository, manifest.digest, { mediaType: manifest.mediaType, bytes: manifest.bytes });
  if (written !== manifest.digest) {
    throw new DigestMismatchError(`registry stored manifest ${manifest.digest} as ${written}`, {
      repository,
      reference: manifest.digest,
      expected: manifest.digest,
      actual: written,
    });
  }
}

function* allBlobs(image: ImageContent): Generator<ImageBlob> {
  for (const child of image.children ?? []) yield* allBlobs(child);
  if (image.config) yield image.config;
  yield* image.layers ?? [];
}

/** Upload one blob; its size. A base image's layer is streamed from its registry when both sides can. */
async function pushOne(registry: Registry, repository: string, blob: ImageBlob, onProgress: ((progress: BlobProgress) => void) | undefined): Promise<number> {
  const counted = (source: BlobSource): BlobSource =>
    onProgress === undefined ? source : countingSource(source, (bytes) => onProgress({ digest: blob.digest, size: blob.size, bytes }));
  const whole = (bytes: number): number => {
    onProgress?.({ digest: blob.digest, size: blob.size, bytes });
    return bytes;
  };
  if (blob.bytes !== undefined) {
    await registry.pushBlob(repository, { digest: blob.digest, bytes: blob.bytes });
    return whole(blob.bytes.length);
  }
  if (blob.path !== undefined) {
    if (canPushBlobsFrom(registry)) return (await registry.pushBlobFrom(repository, counted(fileBlobSource(blob.path, blob)))).bytes;
    const bytes = new Uint8Array(await readFile(blob.path));
    await registry.pushBlob(repository, { digest: blob.digest, bytes });
    return whole(bytes.length);
  }
  const { source } = blob;
  if (!source) throw new RegistryError(`blob ${blob.digest} has neither bytes nor a source to read them from`, { repository, reference: blob.digest });
  if (canOpenBlobs(source.registry) && canPushBlobsFrom(registry)) {
    const pushed = await registry.pushBlobFrom(repository, counted(registryBlobSource(source.registry, source.repository, blob)));
    return pushed.bytes;
  }
  const bytes = await source.registry.getBlob(source.repository, blob.digest, { size: blob.size });
  await registry.pushBlob(repository, { digest: blob.digest, bytes });
  return whole(bytes.length);
}
