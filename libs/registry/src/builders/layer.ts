// The daemonless `layer` builder (CONTRACT §1 build.type "layer"): one reproducible gzip layer
// from a folder, on `scratch` or on a base image read through the `Registry` port.
//
// Reproducibility: the output depends only on the folder's paths, contents and execute bits,
// the options, and (for a base) the base's bytes. It never reads the clock: `created` and every
// tar mtime come from `sourceDateEpoch` (pass the commit time for meaningful dates; default 0,
// i.e. 1970-01-01T00:00:00Z), and the source folder's absolute path appears nowhere.

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { computeDigest } from '../digest.js';
import { MediaTypes, type Descriptor, type Platform, type Registry } from '../types.js';
import { BuildError } from './errors.js';
import { normalizePrefix } from './folder.js';
import type { BuiltImage, ImageBlob } from './image.js';
import { folderTree, type LayerTree } from './layer-tree.js';
import { streamLayer } from './layer-stream.js';

/** The largest base image config read (configs are kilobytes; the spec sets no limit). */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

export const OCI_LABELS = {
  source: 'org.opencontainers.image.source',
  revision: 'org.opencontainers.image.revision',
  version: 'org.opencontainers.image.version',
  baseName: 'org.opencontainers.image.base.name',
  baseDigest: 'org.opencontainers.image.base.digest',
} as const;

export interface LayerBase {
  registry: Registry;
  repository: string;
  /** Tag or digest of the base in `repository`. */
  reference: string;
  /** The base as the user wrote it (`ghcr.io/acme/node:20`), recorded in the base.name annotation. */
  name?: string;
}

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
  /** Replaces the base's Cmd; when omitted with an entrypoint given, the base's Cmd is dropped, as a Dockerfile ENTRYPOINT does. */
  cmd?: readonly string[];
  /** Added to (or replacing by name in) the base's Env. */
  env?: Readonly<Record<string, string>>;
  workingDir?: string;
  /** Where the folder lands in the image. Default `app/`. */
  prefix?: string;
  /** Default linux/amd64. For an index base, the platform picked from it. */
  platform?: Platform;
  labels?: Readonly<Record<string, string>>;
  /** OCI labels and annotations: org.opencontainers.image.source / revision / version. */
  source?: string;
  revision?: string;
  version?: string;
  /** Seconds since the epoch for `created` and every file's mtime. Default 0. */
  sourceDateEpoch?: number;
}

const DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
const DOCKER_FOREIGN_LAYER = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';
const OCI_NONDISTRIBUTABLE_LAYER = 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip';

interface BaseImage {
  layers: ImageBlob[];
  config: Record<string, unknown>;
  annotations: Record<string, string>;
}

/** Build an image from `dir` as one layer; same input, same bytes, same digest. */
export async function buildLayerImage(options: LayerBuildOptions): Promise<BuiltImage> {
  const platform = options.platform ?? { architecture: 'amd64', os: 'linux' };
  const epoch = options.sourceDateEpoch ?? 0;
  if (!Number.isInteger(epoch) || epoch < 0) throw new BuildError('layer', 'E_BUILD_INPUT', `sourceDateEpoch must be whole seconds ≥ 0, got ${epoch}`);
  if (options.entrypoint?.length === 0) throw new BuildError('layer', 'E_BUILD_INPUT', 'entrypoint must name at least the program to run (or be left out to inherit the base image\'s)');
  const created = new Date(epoch * 1000).toISOString().replace(/\.000Z$/, 'Z');
  const prefix = normalizePrefix(options.prefix ?? 'app/');

  const tree = options.tree ?? (options.dir !== undefined ? folderTree(options.dir) : undefined);
  if (!tree || (options.tree && options.dir !== undefined)) throw new BuildError('layer', 'E_BUILD_INPUT', 'give the layer either a folder (dir) or a tree, not both or neither');
  const spoolFile = options.spoolDir === undefined ? undefined : join(options.spoolDir, `layer-${randomBytes(6).toString('hex')}.tar.gz`);
  const streamed = await streamLayer({ tree, prefix, mtime: epoch, ...(spoolFile === undefined ? {} : { spoolFile }) });
  const diffId = streamed.diffId;
  const layer: ImageBlob = {
    mediaType: MediaTypes.ociLayerGzip,
    digest: streamed.digest,
    size: streamed.size,
    ...(streamed.bytes ? { bytes: streamed.bytes } : spoolFile === undefined ? {} : { path: spoolFile }),
  };

  const base = options.from === 'scratch' ? undefined : await loadBase(options.from, platform);
  const ociLabels = sortedRecord({
    ...(options.source === undefined ? {} : { [OCI_LABELS.source]: options.source }),
    ...(options.revision === undefined ? {} : { [OCI_LABELS.revision]: options.revision }),
    ...(options.version === undefined ? {} : { [OCI_LABELS.version]: options.version }),
  });

  const config: Record<string, unknown> = base ? { ...base.config } : {};
  config['created'] = created;
  config['architecture'] = platform.architecture;
  config['os'] = platform.os;
  if (platform.variant !== undefined) config['variant'] = platform.variant;
  else if (!base) delete config['variant'];

  const runConfig: Record<string, unknown> = isObject(config['config']) ? { ...config['config'] } : {};
  if (options.env) runConfig['Env'] = mergeEnv(stringArray(runConfig['Env']), options.env);
  if (options.entrypoint !== undefined) {
    runConfig['Entrypoint'] = [...options.entrypoint];
    if (!options.cmd) delete runConfig['Cmd'];
  }
  if (options.cmd) runConfig['Cmd'] = [...options.cmd];
  if (options.workingDir !== undefined) runConfig['WorkingDir'] = options.workingDir;
  runConfig['Labels'] = sortedRecord({ ...(isObject(runConfig['Labels']) ? (runConfig['Labels'] as Record<string, string>) : {}), ...options.labels, ...ociLabels });
  config['config'] = runConfig;

  const rootfs = isObject(config['rootfs']) ? config['rootfs'] : {};
  config['rootfs'] = { type: 'layers', diff_ids: [...stringArray(rootfs['diff_ids']), diffId] };
  const history = Array.isArray(config['history']) ? config['history'] : [];
  config['history'] = [...history, { created, created_by: `slipway layer /${prefix}`, comment: 'slipway layer builder' }];

  const configBytes = encode(config);
  const configBlob = { mediaType: MediaTypes.ociConfig, digest: computeDigest(configBytes), size: configBytes.length, bytes: configBytes };
  const layers = [...(base?.layers ?? []), layer];
  const annotations = sortedRecord({ ...base?.annotations, ...ociLabels });

  const manifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config: { mediaType: configBlob.mediaType, digest: configBlob.digest, size: configBlob.size },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
  const manifestBytes = encode(manifest);
  return {
    manifest: { mediaType: MediaTypes.ociManifest, digest: computeDigest(manifestBytes), bytes: manifestBytes },
    config: configBlob,
    layers,
    diffId,
  };
}

async function loadBase(base: LayerBase, platform: Platform): Promise<BaseImage> {
  const label = base.name ?? `${base.repository}:${base.reference}`;
  const top = await base.registry.getManifest(base.repository, base.reference);
  let manifest = parse(top.bytes, `base manifest ${label}`);
  if (top.mediaType === MediaTypes.ociIndex || top.mediaType === MediaTypes.dockerManifestList) {
    const candidates = Array.isArray(manifest['manifests']) ? (manifest['manifests'] as Descriptor[]) : [];
    const chosen = candidates.find((d) => matchesPlatform(d.platform, platform));
    if (!chosen) {
      const available = candidates.map((d) => platformName(d.platform)).join(', ') || 'none';
      throw new BuildError('layer', 'E_BUILD_INPUT', `base ${label} has no ${platformName(platform)} image (it has: ${available})`);
    }
    const child = await base.registry.getManifest(base.repository, chosen.digest);
    manifest = parse(child.bytes, `base manifest ${label}@${chosen.digest}`);
  } else if (top.mediaType !== MediaTypes.ociManifest && top.mediaType !== MediaTypes.dockerManifest) {
    throw new BuildError('layer', 'E_BUILD_INPUT', `base ${label} has unsupported media type ${top.mediaType}`);
  }

  const configDescriptor = manifest['config'] as Descriptor | undefined;
  if (!isObject(configDescriptor) || typeof configDescriptor.digest !== 'string') {
    throw new BuildError('layer', 'E_BUILD_INPUT', `base ${label} is not an image manifest (no config)`);
  }
  // An image config is JSON metadata, kilobytes in practice: a base that declares more is not read.
  if (typeof configDescriptor.size !== 'number' || !Number.isSafeInteger(configDescriptor.size) || configDescriptor.size < 0 || configDescriptor.size > MAX_CONFIG_BYTES) {
    throw new BuildError('layer', 'E_BUILD_INPUT', `base ${label}: its config declares ${String(configDescriptor.size)} bytes; at most ${MAX_CONFIG_BYTES} are read`);
  }
  const config = parse(await base.registry.getBlob(base.repository, configDescriptor.digest, { size: configDescriptor.size }), `base config ${label}`);
  if (config['os'] !== platform.os || config['architecture'] !== platform.architecture) {
    throw new BuildError(
      'layer',
      'E_BUILD_INPUT',
      `base ${label} is ${String(config['os'])}/${String(config['architecture'])}, not ${platformName(platform)}`,
    );
  }
  const source = { registry: base.registry, repository: base.repository };
  const layers = (Array.isArray(manifest['layers']) ? (manifest['layers'] as Descriptor[]) : []).map(
    (l): ImageBlob => ({ mediaType: ociLayerType(l.mediaType), digest: l.digest, size: l.size, source }),
  );
  const annotations: Record<string, string> = { [OCI_LABELS.baseDigest]: top.digest };
  if (base.name !== undefined) annotations[OCI_LABELS.baseName] = base.name;
  return { layers, config, annotations };
}

// Docker v2 and OCI layer bytes are the same format; the output is an OCI manifest throughout.
function ociLayerType(mediaType: string): string {
  if (mediaType === DOCKER_LAYER_GZIP) return MediaTypes.ociLayerGzip;
  if (mediaType === DOCKER_FOREIGN_LAYER) return OCI_NONDISTRIBUTABLE_LAYER;
  return mediaType;
}

function matchesPlatform(candidate: Platform | undefined, wanted: Platform): boolean {
  if (!candidate) return false;
  if (candidate.os !== wanted.os || candidate.architecture !== wanted.architecture) return false;
  return wanted.variant === undefined || candidate.variant === wanted.variant;
}

function platformName(p: Platform | undefined): string {
  if (!p) return 'unknown';
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
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

function parse(bytes: Uint8Array, what: string): Record<string, unknown> {
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    if (isObject(value)) return value;
  } catch (cause) {
    throw new BuildError('layer', 'E_BUILD_INPUT', `${what} is not valid JSON`, { cause });
  }
  throw new BuildError('layer', 'E_BUILD_INPUT', `${what} is not a JSON object`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function encode(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

