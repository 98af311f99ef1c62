// The daemonless `layer` builder (CONTRACT §1 build.type "layer"): one reproducible gzip layer
// from a folder, on `scratch` or on a base image read through the `Registry` port, for one
// platform or several (an index whose every image shares that one layer blob).
//
// Reproducibility: the output depends only on the folder's paths, contents and execute bits,
// the options, and (for a base) the base's bytes. It never reads the clock: `created` and every
// tar mtime come from `sourceDateEpoch` (pass the commit time for meaningful dates; default 0,
// i.e. 1970-01-01T00:00:00Z), and the source folder's absolute path appears nowhere.
//
// Provenance: every manifest, index and config says what Slipway knows of this image
// (org.opencontainers.image.created, and source / revision / version / title / base.* when
// given), never what the base said of itself: a base's org.opencontainers.image.* labels other
// than `licenses` are dropped.

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { computeDigest } from '../digest.js';
import { MediaTypes, type Platform } from '../types.js';
import { BuildError } from './errors.js';
import { normalizePrefix } from './folder.js';
import type { BuiltImage, BuiltLayerImages, ImageBlob } from './image.js';
import { choosePlatforms, descriptorPlatform, isObject, openBase, type BaseCandidate, type BaseImage, type LayerBase } from './layer-base.js';
import { folderTree, type LayerTree } from './layer-tree.js';
import { streamLayer } from './layer-stream.js';
import { formatPlatform, samePlatform } from './platform.js';

export type { LayerBase } from './layer-base.js';
export { formatPlatform, parsePlatform } from './platform.js';

export const OCI_LABELS = {
  created: 'org.opencontainers.image.created',
  title: 'org.opencontainers.image.title',
  source: 'org.opencontainers.image.source',
  revision: 'org.opencontainers.image.revision',
  version: 'org.opencontainers.image.version',
  baseName: 'org.opencontainers.image.base.name',
  baseDigest: 'org.opencontainers.image.base.digest',
} as const;

/** `org.opencontainers.image.created` for a time in seconds since the epoch: RFC 3339, whole seconds, UTC. */
export function ociCreated(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

/** Labels the builder writes from its own options: `labels` may not set them. */
export const PROVENANCE_LABELS: readonly string[] = [OCI_LABELS.created, OCI_LABELS.source, OCI_LABELS.revision, OCI_LABELS.version, OCI_LABELS.baseName, OCI_LABELS.baseDigest];

// A base's own org.opencontainers.image.* labels describe the base (its source, its version, its
// base), not the image built on it. Only its licenses still hold for its files.
const INHERITED_OCI_LABELS = new Set(['org.opencontainers.image.licenses']);

const EXPOSED_PORT = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/;

export interface LayerBuildOptions {
  from: 'scratch' | LayerBase;
  /** The folder that becomes the layer (read from disk); give this or `tree`. */
  dir?: string;
  /**
   * The files that become the layer, from another store: the git adapter's `layerTree` reads them
   * from git's objects at a commit, exactly as committed.
   */
  tree?: LayerTree;
  /**
   * A folder to write the compressed layer into (`<spoolDir>/layer-<random>.tar.gz`, the caller
   * removes it); the layer blob then names that file (`path`) instead of holding `bytes`, so a
   * layer of any size is built and pushed in constant memory. Without it the layer is kept in memory.
   */
  spoolDir?: string;
  /**
   * The image's entrypoint. Omitted: the base's is inherited with its Cmd (none on scratch), as a
   * Dockerfile without ENTRYPOINT does. Given, it must name a program.
   */
  entrypoint?: readonly string[] | undefined;
  /** Replaces the base's Cmd (`[]` clears it); when omitted with an entrypoint given, the base's Cmd is dropped, as a Dockerfile ENTRYPOINT does. */
  cmd?: readonly string[];
  /** Added to (or replacing by name in) the base's Env. */
  env?: Readonly<Record<string, string>>;
  workingDir?: string;
  /** The user the entrypoint runs as (`1000`, `node`, `1000:1000`); default the base's. */
  user?: string;
  /** Ports the image declares, `8080/tcp` (`8080` means tcp), added to the base's. */
  exposedPorts?: readonly string[];
  /** Where the folder lands in the image. Default `app/`. */
  prefix?: string;
  /** One platform (buildLayerImage); give this or `platforms`. */
  platform?: Platform;
  /**
   * The platforms to build. Default: every platform the base offers (attestations left out), or
   * linux/amd64 on scratch. The layer is built once and shared by every platform's image.
   */
  platforms?: readonly Platform[];
  /** Config labels; they may not set the provenance labels the options below write. */
  labels?: Readonly<Record<string, string>>;
  /** org.opencontainers.image.title (label and annotation); `labels` may override it. */
  title?: string;
  /** OCI labels and annotations: org.opencontainers.image.source / revision / version. */
  source?: string;
  revision?: string;
  version?: string;
  /** Seconds since the epoch for `created` (config, label, annotation) and every file's mtime. Default 0. */
  sourceDateEpoch?: number;
}

/** One target platform: the base's image for it (none on scratch) and the platform object its index entry carries. */
interface Target {
  platform: Platform;
  descriptorPlatform: Record<string, unknown>;
  base?: BaseCandidate;
}

/**
 * Build an image for every platform asked for (default: every platform the base offers, or
 * linux/amd64 on scratch). One platform gives one image manifest; several give an OCI index over
 * one image per platform. Same input, same bytes, same digest.
 */
export async function buildLayerImages(options: LayerBuildOptions): Promise<BuiltLayerImages> {
  return await build(options, undefined);
}

/**
 * Build an image from `dir` as one layer, for one platform: `platform`, or the base's only one,
 * or linux/amd64 (on scratch, or among several the base offers). For several, buildLayerImages.
 */
export async function buildLayerImage(options: LayerBuildOptions): Promise<BuiltImage> {
  if (options.platforms !== undefined) throw new BuildError('layer', 'E_BUILD_INPUT', 'buildLayerImage builds one platform: pass platform, or call buildLayerImages');
  const built = await build(options, (offered) => (options.platform === undefined && offered > 1 ? { architecture: 'amd64', os: 'linux' } : options.platform));
  return built.images[0] as BuiltImage;
}

/** `onePlatform`, for buildLayerImage: the platform to build given how many the base offers. */
async function build(options: LayerBuildOptions, onePlatform: ((offered: number) => Platform | undefined) | undefined): Promise<BuiltLayerImages> {
  const epoch = options.sourceDateEpoch ?? 0;
  if (!Number.isInteger(epoch) || epoch < 0) throw new BuildError('layer', 'E_BUILD_INPUT', `sourceDateEpoch must be whole seconds ≥ 0, got ${epoch}`);
  if (options.entrypoint?.length === 0) throw new BuildError('layer', 'E_BUILD_INPUT', 'entrypoint must name at least the program to run (or be left out to inherit the base image\'s)');
  if (options.platform !== undefined && options.platforms !== undefined) throw new BuildError('layer', 'E_BUILD_INPUT', 'give platform or platforms, not both');
  let requested = options.platforms ?? (options.platform === undefined ? undefined : [options.platform]);
  if (requested?.length === 0) throw new BuildError('layer', 'E_BUILD_INPUT', 'platforms must name at least one platform (or be left out for every platform the base offers)');
  for (const [i, p] of (requested ?? []).entries()) {
    if (requested?.slice(0, i).some((q) => samePlatform(p, q))) throw new BuildError('layer', 'E_BUILD_INPUT', `platform ${formatPlatform(p)} is listed twice`);
  }
  const reserved = Object.keys(options.labels ?? {}).filter((k) => PROVENANCE_LABELS.includes(k));
  if (reserved.length > 0) throw new BuildError('layer', 'E_BUILD_INPUT', `labels: ${reserved.join(', ')} ${reserved.length === 1 ? 'is' : 'are'} written by the builder (pass source, revision, version as options)`);
  const badEnv = Object.keys(options.env ?? {}).filter((name) => name === '' || name.includes('='));
  if (badEnv.length > 0) throw new BuildError('layer', 'E_BUILD_INPUT', `env: ${badEnv.map((n) => JSON.stringify(n)).join(', ')} is not a variable name (not empty, no "=")`);
  const exposedPorts = (options.exposedPorts ?? []).map(exposedPort);
  const prefix = normalizePrefix(options.prefix ?? 'app/');
  const tree = options.tree ?? (options.dir !== undefined ? folderTree(options.dir) : undefined);
  if (!tree || (options.tree && options.dir !== undefined)) throw new BuildError('layer', 'E_BUILD_INPUT', 'give the layer either a folder (dir) or a tree, not both or neither');
  const created = ociCreated(epoch);

  // The base first: a platform it lacks is found before a single file is read.
  const base = options.from === 'scratch' ? undefined : await openBase(options.from);
  if (onePlatform) {
    const one = onePlatform(base?.candidates.length ?? 1);
    requested = one === undefined ? undefined : [one];
  }
  const targets: Target[] = base
    ? choosePlatforms(base, requested).map((c) => ({ platform: c.platform, descriptorPlatform: c.descriptorPlatform, base: c }))
    : (requested ?? [{ architecture: 'amd64', os: 'linux' }]).map((p) => ({ platform: p, descriptorPlatform: descriptorPlatform({ ...p }) }));

  // Layer bytes do not depend on the platform: one layer blob, shared by every image.
  const spoolFile = options.spoolDir === undefined ? undefined : join(options.spoolDir, `layer-${randomBytes(6).toString('hex')}.tar.gz`);
  const streamed = await streamLayer({ tree, prefix, mtime: epoch, ...(spoolFile === undefined ? {} : { spoolFile }) });
  const layer: ImageBlob = {
    mediaType: MediaTypes.ociLayerGzip,
    digest: streamed.digest,
    size: streamed.size,
    ...(streamed.bytes ? { bytes: streamed.bytes } : spoolFile === undefined ? {} : { path: spoolFile }),
  };

  const provenance = sortedRecord({
    [OCI_LABELS.created]: created,
    ...(options.source === undefined ? {} : { [OCI_LABELS.source]: options.source }),
    ...(options.revision === undefined ? {} : { [OCI_LABELS.revision]: options.revision }),
    ...(options.version === undefined ? {} : { [OCI_LABELS.version]: options.version }),
    ...(base === undefined ? {} : { [OCI_LABELS.baseDigest]: base.digest }),
    ...(options.from !== 'scratch' && options.from.name !== undefined ? { [OCI_LABELS.baseName]: options.from.name } : {}),
  });
  const annotations = sortedRecord({ ...provenance, ...(options.title === undefined ? {} : { [OCI_LABELS.title]: options.title }) });

  const images: BuiltImage[] = [];
  for (const target of targets) {
    const baseImage = target.base ? await target.base.load() : undefined;
    images.push(platformImage({ options, target, baseImage, layer, diffId: streamed.diffId, created, prefix, provenance, annotations, exposedPorts }));
  }
  if (images.length === 1) {
    const [only] = images as [BuiltImage];
    return { manifest: only.manifest, config: only.config, layers: only.layers, images, diffId: streamed.diffId };
  }
  const index = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociIndex,
    manifests: images.map((image, i) => ({
      mediaType: image.manifest.mediaType,
      digest: image.manifest.digest,
      size: image.manifest.bytes.length,
      platform: targets[i]?.descriptorPlatform,
    })),
    annotations,
  };
  const indexBytes = encode(index);
  return { manifest: { mediaType: MediaTypes.ociIndex, digest: computeDigest(indexBytes), bytes: indexBytes }, children: images, images, diffId: streamed.diffId };
}

/**
 * The platforms a build on `from` would produce, without reading any file: what `check` asks
 * before a release. A platform the base does not offer is a BuildError (E_BUILD_INPUT) naming the
 * ones it does; a base that cannot be read fails as the registry does.
 */
export async function layerPlatforms(options: { from: 'scratch' | LayerBase; platforms?: readonly Platform[] }): Promise<Platform[]> {
  if (options.from === 'scratch') return [...(options.platforms ?? [{ architecture: 'amd64', os: 'linux' }])];
  return choosePlatforms(await openBase(options.from), options.platforms).map((c) => c.platform);
}

interface PlatformImageInput {
  options: LayerBuildOptions;
  target: Target;
  baseImage: BaseImage | undefined;
  layer: ImageBlob;
  diffId: string;
  created: string;
  prefix: string;
  provenance: Record<string, string>;
  annotations: Record<string, string>;
  exposedPorts: string[];
}

function platformImage(input: PlatformImageInput): BuiltImage {
  const { options, target, baseImage, created, provenance } = input;
  const config: Record<string, unknown> = baseImage ? { ...baseImage.config } : {};
  config['created'] = created;
  if (!baseImage) {
    // On a base, its config already says its platform (checked against the index).
    config['architecture'] = target.platform.architecture;
    config['os'] = target.platform.os;
    if (target.platform.variant !== undefined) config['variant'] = target.platform.variant;
  }

  const runConfig: Record<string, unknown> = isObject(config['config']) ? { ...config['config'] } : {};
  if (options.env) runConfig['Env'] = mergeEnv(stringArray(runConfig['Env']), options.env);
  if (options.entrypoint !== undefined) {
    runConfig['Entrypoint'] = [...options.entrypoint];
    if (!options.cmd) delete runConfig['Cmd'];
  }
  if (options.cmd) {
    if (options.cmd.length > 0) runConfig['Cmd'] = [...options.cmd];
    else delete runConfig['Cmd'];
  }
  if (options.workingDir !== undefined) runConfig['WorkingDir'] = options.workingDir;
  if (options.user !== undefined) runConfig['User'] = options.user;
  if (input.exposedPorts.length > 0) {
    const ports = new Set([...Object.keys(isObject(runConfig['ExposedPorts']) ? runConfig['ExposedPorts'] : {}), ...input.exposedPorts]);
    runConfig['ExposedPorts'] = Object.fromEntries([...ports].sort().map((k) => [k, {}]));
  }
  const inherited = Object.fromEntries(
    Object.entries(isObject(runConfig['Labels']) ? runConfig['Labels'] : {}).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string' && (!entry[0].startsWith('org.opencontainers.image.') || INHERITED_OCI_LABELS.has(entry[0])),
    ),
  );
  runConfig['Labels'] = sortedRecord({
    ...inherited,
    ...(options.title === undefined ? {} : { [OCI_LABELS.title]: options.title }),
    ...options.labels,
    ...provenance,
  });
  config['config'] = runConfig;

  const rootfs = isObject(config['rootfs']) ? config['rootfs'] : {};
  config['rootfs'] = { type: 'layers', diff_ids: [...stringArray(rootfs['diff_ids']), input.diffId] };
  const history = Array.isArray(config['history']) ? config['history'] : [];
  config['history'] = [...history, { created, created_by: `slipway layer /${input.prefix}`, comment: 'slipway layer builder' }];

  const configBytes = encode(config);
  const configBlob = { mediaType: MediaTypes.ociConfig, digest: computeDigest(configBytes), size: configBytes.length, bytes: configBytes };
  const layers = [...(baseImage?.layers ?? []), input.layer];
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config: { mediaType: configBlob.mediaType, digest: configBlob.digest, size: configBlob.size },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    annotations: input.annotations,
  };
  const manifestBytes = encode(manifest);
  return {
    manifest: { mediaType: MediaTypes.ociManifest, digest: computeDigest(manifestBytes), bytes: manifestBytes },
    config: configBlob,
    layers,
    diffId: input.diffId,
    platform: target.platform,
  };
}

/** `8080` → `8080/tcp`; a port outside 1–65535 or another protocol is bad input. */
function exposedPort(text: string): string {
  const match = EXPOSED_PORT.exec(text);
  const port = Number(match?.[1]);
  if (!match || port < 1 || port > 65535) throw new BuildError('layer', 'E_BUILD_INPUT', `exposedPorts: "${text}" is not port/protocol, e.g. "8080/tcp" (port 1–65535, protocol tcp, udp or sctp)`);
  return `${port}/${match[2] ?? 'tcp'}`;
}

function mergeEnv(existing: string[], added: Readonly<Record<string, string>>): string[] {
  const out = existing.map((entry) => {
    const name = entry.split('=', 1)[0] ?? entry;
    return Object.hasOwn(added, name) ? `${name}=${added[name]}` : entry;
  });
  const present = new Set(existing.map((entry) => entry.split('=', 1)[0]));
  for (const name of Object.keys(added).sort()) if (!present.has(name)) out.push(`${name}=${added[name]}`);
  return out;
}

function sortedRecord(record: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(record).sort()) {
    const value = record[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function encode(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}
