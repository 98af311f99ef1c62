import { canOpenBlobs, canPushBlobsFrom, countingSource, registryBlobSource } from './blob-stream.js';
import { computeDigest } from './digest.js';
import { parseJsonObject } from './json-object.js';
import { RegistryError } from './errors.js';
import { guardTag } from './guard-tag.js';
import { holdsOnlyOci } from './oci-only.js';
import { MediaTypes, type Descriptor, type Registry, type StoredManifest } from './types.js';

export interface CopySource {
  registry: Registry;
  repository: string;
  /** Tag or digest. */
  reference: string;
}

export interface CopyTarget {
  /** Default: the source registry. */
  registry?: Registry;
  repository: string;
  /** Tags to point at the image; none = store it by digest only. */
  tags: readonly string[];
}

export interface CopyImageOptions {
  from: CopySource;
  to: CopyTarget | readonly CopyTarget[];
  /**
   * Check each tag first (guardTag): one already at this digest is left alone, one pointing
   * elsewhere refuses the whole copy (ImmutableTagError) before anything is written.
   */
  immutable?: boolean;
  /** Blobs copied at once. Default 4. */
  concurrency?: number;
  /**
   * Called as blob bytes move (for a progress display): when a blob starts and as each piece of
   * it is sent. Blobs mounted or already present are not reported.
   */
  onProgress?: (progress: BlobProgress) => void;
}

/** How far one blob's transfer has come. */
export interface BlobProgress {
  digest: string;
  /** The descriptor's size. */
  size: number;
  /** Bytes of it read and sent so far: 0 again when a failed transfer starts over from the source. */
  bytes: number;
}

export interface CopyImageResult {
  /** The digest of the copied image or index: the same at every target. */
  digest: string;
  mediaType: string;
  /** `repository:tag` written. */
  tagged: string[];
  /** `repository:tag` that already pointed at the digest (with `immutable`). */
  unchanged: string[];
  /** Child manifests written (an index's platforms). */
  manifests: number;
  /**
   * `repository:tag` that already named the digest while a child manifest of the index was missing
   * there (a registry cleanup of untagged manifests removes them): the children were copied again.
   */
  repaired: string[];
  /**
   * Targets that hold only OCI media types (an OCI image layout: skopeo and umoci read nothing
   * else there) get a Docker schema 2 image converted to OCI — the same blobs, new manifests — so
   * its digest there differs: `repository` → that digest.
   */
  converted: Record<string, string>;
  blobs: { mounted: number; uploaded: number; present: number; uploadedBytes: number };
}

/** What a registry that can mount across repositories offers beyond the port (the HTTP client). */
interface Mounting {
  mountBlob(repository: string, digest: string, fromRepository: string): Promise<boolean>;
}

const INDEX_TYPES = new Set<string>([MediaTypes.ociIndex, MediaTypes.dockerManifestList]);
const IMAGE_TYPES = new Set<string>([MediaTypes.ociManifest, MediaTypes.dockerManifest]);

/**
 * Copy an image or a whole index (every platform) to one or more tags, bytes for bytes, so the
 * digest is the same everywhere. Within one repository that is one GET and a PUT per tag. Across
 * repositories of the same registry, blobs are mounted, not uploaded (children first, the index
 * last, so a reader never sees an index whose children are missing); across registries (or
 * between a registry and the layout store) each blob is streamed from the source to the target
 * and hashed once on the way. The blobs of every platform of an index go `concurrency` at a time,
 * not one platform after another.
 */
export async function copyImage(options: CopyImageOptions): Promise<CopyImageResult> {
  const { from } = options;
  const targets = (Array.isArray(options.to) ? options.to : [options.to]) as readonly CopyTarget[];
  const top = await from.registry.getManifest(from.repository, from.reference);
  const result: CopyImageResult = {
    digest: top.digest,
    mediaType: top.mediaType,
    tagged: [],
    unchanged: [],
    manifests: 0,
    repaired: [],
    converted: {},
    blobs: { mounted: 0, uploaded: 0, present: 0, uploadedBytes: 0 },
  };
  const concurrency = options.concurrency ?? 4;
  if (options.onProgress !== undefined) progressOf.set(result, options.onProgress);

  const pending: { target: CopyTarget & { registry: Registry }; tags: string[]; conversion: Conversion | undefined }[] = [];
  for (const target of targets) {
    const registry = target.registry ?? from.registry;
    const conversion = holdsOnlyOci(registry) ? await convertToOci(top, from) : undefined;
    if (conversion) result.converted[target.repository] = conversion.top.digest;
    const digest = conversion?.top.digest ?? top.digest;
    const tags: string[] = [];
    for (const tag of target.tags) {
      if (options.immutable === true && (await guardTag(registry, target.repository, tag, digest)) === 'same') {
        result.unchanged.push(`${target.repository}:${tag}`);
      } else {
        tags.push(tag);
      }
    }
    pending.push({ target: { ...target, registry }, tags, conversion });
  }

  for (const { target, tags, conversion } of pending) {
    // A converted image is new manifests even within one repository: its children must be written too.
    const sameRepository = conversion === undefined && target.registry === from.registry && target.repository === from.repository;
    const stored = conversion?.top ?? top;
    if (!sameRepository) {
      if (tags.length === 0 && target.tags.length > 0) {
        // Every tag already names the digest; that proves the top manifest, not its children.
        if (await repairChildren(top, from, target, result, concurrency, conversion)) {
          const names = new Set(target.tags.map((tag) => `${target.repository}:${tag}`));
          result.unchanged = result.unchanged.filter((name) => !names.has(name));
          result.repaired.push(...names);
        }
        continue;
      }
      await copyContent(top, from, target, result, concurrency, conversion);
    }
    if (tags.length === 0 && target.tags.length === 0 && !sameRepository) {
      await target.registry.putManifest(target.repository, stored.digest, stored);
    }
    for (const tag of tags) {
      await target.registry.putManifest(target.repository, tag, stored);
      result.tagged.push(`${target.repository}:${tag}`);
    }
  }
  return result;
}

/**
 * The digest `from` has once copied to `registry`: the source's own, or that of its OCI conversion
 * for a store that holds only OCI media types (what a dry run compares tags with).
 */
export async function copiedDigest(from: CopySource, registry: Registry): Promise<string> {
  const top = await from.registry.getManifest(from.repository, from.reference);
  if (!holdsOnlyOci(registry)) return top.digest;
  return (await convertToOci(top, from))?.top.digest ?? top.digest;
}

/** An index's children missing at the target, copied again (with their blobs); whether any was. */
async function repairChildren(
  top: StoredManifest,
  from: CopySource,
  target: CopyTarget & { registry: Registry },
  result: CopyImageResult,
  concurrency: number,
  conversion: Conversion | undefined,
): Promise<boolean> {
  if (!INDEX_TYPES.has(top.mediaType)) return false;
  let repaired = false;
  for (const child of parseManifest(top, from).manifests ?? []) {
    const stored = conversion?.children.get(child.digest);
    if (await target.registry.resolve(target.repository, stored?.digest ?? child.digest)) continue;
    const childManifest = await from.registry.getManifest(from.repository, child.digest);
    await copyContent(childManifest, from, target, result, concurrency, conversion);
    await target.registry.putManifest(target.repository, stored?.digest ?? child.digest, stored ?? childManifest);
    result.manifests++;
    repaired = true;
  }
  return repaired;
}

/**
 * Copy what `manifest` references that the target needs before the manifest itself: for an image,
 * its blobs; for an index, every platform's blobs at once (a blob shared by platforms once), then
 * each platform's manifest, children before their parents. The caller puts `manifest` last.
 */
async function copyContent(
  manifest: StoredManifest,
  from: CopySource,
  target: CopyTarget & { registry: Registry },
  result: CopyImageResult,
  concurrency: number,
  conversion?: Conversion,
): Promise<void> {
  const blobs = new Map<string, Descriptor>();
  const children: StoredManifest[] = [];
  const gather = async (current: StoredManifest): Promise<void> => {
    const parsed = parseManifest(current, from);
    if (INDEX_TYPES.has(current.mediaType)) {
      for (const child of parsed.manifests ?? []) {
        const childManifest = await from.registry.getManifest(from.repository, child.digest);
        await gather(childManifest);
        children.push(childManifest);
      }
      return;
    }
    if (!IMAGE_TYPES.has(current.mediaType) && parsed.config === undefined) {
      throw new RegistryError(`copy: ${from.repository}@${current.digest} has media type ${current.mediaType}, which is neither an image nor an index`, {
        repository: from.repository,
        reference: current.digest,
        code: 'E_REGISTRY_PROTOCOL',
      });
    }
    for (const d of [parsed.config, ...(parsed.layers ?? [])]) {
      // Non-distributable (foreign) layers stay where their `urls` say; registries refuse them.
      if (d !== undefined && !/nondistributable|foreign/.test(d.mediaType) && !blobs.has(d.digest)) blobs.set(d.digest, d);
    }
  };
  await gather(manifest);
  await forEachLimited([...blobs.values()], concurrency, (blob) => copyBlob(blob, from, target, result));
  for (const child of children) {
    const stored = conversion?.children.get(child.digest) ?? child;
    await target.registry.putManifest(target.repository, stored.digest, stored);
    result.manifests++;
  }
}

/** copyImage's progress callback, for the blob copies of the call under way. */
const progressOf = new WeakMap<CopyImageResult, (progress: BlobProgress) => void>();

async function copyBlob(blob: Descriptor, from: CopySource, target: CopyTarget & { registry: Registry }, result: CopyImageResult): Promise<void> {
  const mounting = target.registry === from.registry && isMounting(target.registry) ? target.registry : undefined;
  if (mounting !== undefined && (await mounting.mountBlob(target.repository, blob.digest, from.repository))) {
    result.blobs.mounted++;
    return;
  }
  if (canOpenBlobs(from.registry) && canPushBlobsFrom(target.registry)) {
    // pushBlobFrom checks for the blob itself: no HEAD of our own before it.
    const onProgress = progressOf.get(result);
    const source = registryBlobSource(from.registry, from.repository, blob);
    const pushed = await target.registry.pushBlobFrom(
      target.repository,
      onProgress === undefined ? source : countingSource(source, (bytes) => onProgress({ digest: blob.digest, size: blob.size, bytes })),
    );
    // 'present' with bytes sent: our upload landed but its answer was lost.
    if (pushed.outcome === 'present' && pushed.bytes === 0) {
      result.blobs.present++;
    } else {
      result.blobs.uploaded++;
      result.blobs.uploadedBytes += pushed.bytes;
    }
    return;
  }
  if (await target.registry.hasBlob(target.repository, blob.digest)) {
    result.blobs.present++;
    return;
  }
  const bytes = await from.registry.getBlob(from.repository, blob.digest, { size: blob.size });
  await target.registry.pushBlob(target.repository, { digest: blob.digest, bytes });
  progressOf.get(result)?.({ digest: blob.digest, size: blob.size, bytes: bytes.length });
  result.blobs.uploaded++;
  result.blobs.uploadedBytes += bytes.length;
}

/** A Docker schema 2 image or list rewritten with OCI media types: the top and each child by its source digest. */
interface Conversion {
  top: StoredManifest;
  children: Map<string, StoredManifest>;
}

const DOCKER_TO_OCI: Record<string, string> = {
  [MediaTypes.dockerManifest]: MediaTypes.ociManifest,
  [MediaTypes.dockerManifestList]: MediaTypes.ociIndex,
  'application/vnd.docker.container.image.v1+json': MediaTypes.ociConfig,
  'application/vnd.docker.image.rootfs.diff.tar.gzip': MediaTypes.ociLayerGzip,
  'application/vnd.docker.image.rootfs.diff.tar': 'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip': 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
};

/**
 * The image with OCI media types, as `skopeo copy` writes into `oci:` (the blobs are the same
 * bytes: a Docker config is an OCI config, a Docker layer an OCI layer); undefined when it already
 * has them.
 */
async function convertToOci(top: StoredManifest, from: CopySource): Promise<Conversion | undefined> {
  const children = new Map<string, StoredManifest>();
  const convert = async (manifest: StoredManifest): Promise<StoredManifest> => {
    const parsed = parseManifest(manifest, from) as Record<string, unknown> & { manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] };
    let changed = DOCKER_TO_OCI[manifest.mediaType] !== undefined;
    const retype = (d: Descriptor): Descriptor => {
      const mediaType = DOCKER_TO_OCI[d.mediaType];
      if (mediaType === undefined) return d;
      changed = true;
      return { ...d, mediaType };
    };
    const out: Record<string, unknown> = { ...parsed, mediaType: DOCKER_TO_OCI[manifest.mediaType] ?? manifest.mediaType };
    if (INDEX_TYPES.has(manifest.mediaType)) {
      const manifests: Descriptor[] = [];
      for (const child of parsed.manifests ?? []) {
        const converted = await convert(await from.registry.getManifest(from.repository, child.digest));
        if (converted.digest !== child.digest) {
          changed = true;
          children.set(child.digest, converted);
        }
        manifests.push({ ...child, mediaType: converted.mediaType, digest: converted.digest, size: converted.bytes.length });
      }
      out['manifests'] = manifests;
    } else {
      if (parsed.config) out['config'] = retype(parsed.config);
      if (parsed.layers) out['layers'] = parsed.layers.map(retype);
    }
    if (!changed) return manifest;
    const bytes = new TextEncoder().encode(JSON.stringify(out));
    return { mediaType: out['mediaType'] as string, digest: computeDigest(bytes), bytes };
  };
  const converted = await convert(top);
  return converted.digest === top.digest ? undefined : { top: converted, children };
}

function isMounting(registry: Registry): registry is Registry & Mounting {
  return typeof (registry as Partial<Mounting>).mountBlob === 'function';
}

function parseManifest(manifest: StoredManifest, from: CopySource): { manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] } {
  const parsed = parseJsonObject(manifest.bytes);
  if (!parsed) {
    throw new RegistryError(`copy: ${from.repository}@${manifest.digest} is not a JSON object`, { repository: from.repository, reference: manifest.digest, code: 'E_REGISTRY_PROTOCOL' });
  }
  for (const field of ['manifests', 'layers'] as const) {
    if (parsed[field] !== undefined && !Array.isArray(parsed[field])) {
      throw new RegistryError(`copy: ${from.repository}@${manifest.digest}: "${field}" is not a list`, { repository: from.repository, reference: manifest.digest, code: 'E_REGISTRY_PROTOCOL' });
    }
  }
  return parsed as { manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] };
}

/** Run `fn` over `items`, `limit` at a time; after a failure, start nothing new, let the running ones settle, then throw it. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const failures: unknown[] = [];
  // Settling first means no write is still under way once copyImage has thrown.
  const worker = async () => {
    while (failures.length === 0 && next < items.length) {
      try {
        await fn(items[next++] as T);
      } catch (error) {
        failures.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failures.length > 0) throw failures[0];
}
