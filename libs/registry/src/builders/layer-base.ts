// The base of a `layer` build, read through the Registry port: which platforms it offers, and
// for each one its layers (referenced, never downloaded) and its config.

import { MediaTypes, type Descriptor, type Platform, type Registry } from '../types.js';
import { BuildError } from './errors.js';
import type { ImageBlob } from './image.js';
import { formatPlatform, matchesPlatform, samePlatform } from './platform.js';

/** The largest base image config read (configs are kilobytes; the spec sets no limit). */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

const DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
const DOCKER_FOREIGN_LAYER = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';
const OCI_NONDISTRIBUTABLE_LAYER = 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip';

export interface LayerBase {
  registry: Registry;
  repository: string;
  /** Tag or digest of the base in `repository`. */
  reference: string;
  /**
   * A reference anyone can pull the base by (`ghcr.io/acme/node:20`, `docker.io/library/node:20`),
   * recorded as org.opencontainers.image.base.name. Leave it out when there is none (a base in a
   * local OCI layout): base.digest is recorded either way.
   */
  name?: string;
}

/** One platform image of the base. */
export interface BaseImage {
  layers: ImageBlob[];
  config: Record<string, unknown>;
}

export interface BaseCandidate {
  platform: Platform;
  /** The platform as a descriptor in an index says it (os.version and os.features kept). */
  descriptorPlatform: Record<string, unknown>;
  load(): Promise<BaseImage>;
}

export interface OpenedBase {
  label: string;
  /** The digest of what `reference` names: an index or a manifest. */
  digest: string;
  /** Every platform it offers, attestations and other non-images left out, in its own order. */
  candidates: BaseCandidate[];
}

/** Read the base's top manifest (and, for a single image, its config). */
export async function openBase(base: LayerBase): Promise<OpenedBase> {
  const label = base.name ?? `${base.repository}:${base.reference}`;
  const top = await base.registry.getManifest(base.repository, base.reference);
  const manifest = parse(top.bytes, `base manifest ${label}`);
  if (top.mediaType === MediaTypes.ociIndex || top.mediaType === MediaTypes.dockerManifestList) {
    const descriptors = Array.isArray(manifest['manifests']) ? (manifest['manifests'] as unknown[]).filter(isObject) : [];
    const candidates: BaseCandidate[] = [];
    for (const raw of descriptors) {
      const descriptor = raw as unknown as Descriptor;
      const platform = toPlatform(raw['platform']);
      if (!platform || isAttestation(descriptor, platform)) continue;
      if (descriptor.mediaType !== MediaTypes.ociManifest && descriptor.mediaType !== MediaTypes.dockerManifest) continue;
      candidates.push({
        platform,
        descriptorPlatform: descriptorPlatform(raw['platform'] as Record<string, unknown>),
        load: async () => {
          const child = await base.registry.getManifest(base.repository, descriptor.digest);
          return await loadImage(base, `${label}@${descriptor.digest}`, parse(child.bytes, `base manifest ${label}@${descriptor.digest}`), platform);
        },
      });
    }
    return { label, digest: top.digest, candidates };
  }
  if (top.mediaType !== MediaTypes.ociManifest && top.mediaType !== MediaTypes.dockerManifest) {
    throw new BuildError('layer', 'E_BUILD_INPUT', `base ${label} has unsupported media type ${top.mediaType}`);
  }
  const image = await loadImage(base, label, manifest, undefined);
  const platform = toPlatform(image.config);
  if (!platform) throw new BuildError('layer', 'E_BUILD_INPUT', `base ${label}: its config names no os and architecture`);
  return { label, digest: top.digest, candidates: [{ platform, descriptorPlatform: descriptorPlatform(image.config), load: async () => image }] };
}

/**
 * The base's images for the platforms asked for, in that order; without a request, every
 * platform it offers. A platform it does not offer is bad input naming those it does.
 */
export function choosePlatforms(base: OpenedBase, requested: readonly Platform[] | undefined): BaseCandidate[] {
  const offered = base.candidates.map((c) => formatPlatform(c.platform)).join(', ') || 'none';
  if (requested === undefined) {
    if (base.candidates.length === 0) throw new BuildError('layer', 'E_BUILD_INPUT', `base ${base.label} offers no platform image to build on`);
    return base.candidates;
  }
  return requested.map((wanted) => {
    const matches = base.candidates.filter((c) => matchesPlatform(c.platform, wanted));
    const exact = matches.filter((c) => samePlatform(c.platform, wanted));
    const chosen = exact.length === 1 ? exact[0] : matches.length === 1 ? matches[0] : undefined;
    if (chosen) return chosen;
    if (matches.length > 1) {
      throw new BuildError('layer', 'E_BUILD_INPUT', `platform ${formatPlatform(wanted)} is ambiguous in base ${base.label}: name one of ${matches.map((c) => formatPlatform(c.platform)).join(', ')}`);
    }
    throw new BuildError('layer', 'E_BUILD_INPUT', `base ${base.label} does not offer platform ${formatPlatform(wanted)} (it offers: ${offered}); list only those in build.platforms`);
  });
}

async function loadImage(base: LayerBase, label: string, manifest: Record<string, unknown>, expected: Platform | undefined): Promise<BaseImage> {
  const configDescriptor = manifest['config'] as Descriptor | undefined;
  if (!isObject(configDescriptor) || typeof configDescriptor.digest !== 'string') {
    throw new BuildError('layer', 'E_BUILD_INPUT', `base ${label} is not an image manifest (no config)`);
  }
  // An image config is JSON metadata, kilobytes in practice: a base that declares more is not read.
  if (typeof configDescriptor.size !== 'number' || !Number.isSafeInteger(configDescriptor.size) || configDescriptor.size < 0 || configDescriptor.size > MAX_CONFIG_BYTES) {
    throw new BuildError('layer', 'E_BUILD_INPUT', `base ${label}: its config declares ${String(configDescriptor.size)} bytes; at most ${MAX_CONFIG_BYTES} are read`);
  }
  const config = parse(await base.registry.getBlob(base.repository, configDescriptor.digest, { size: configDescriptor.size }), `base config ${label}`);
  if (expected && (config['os'] !== expected.os || config['architecture'] !== expected.architecture)) {
    throw new BuildError('layer', 'E_BUILD_INPUT', `base ${label} is ${String(config['os'])}/${String(config['architecture'])}, not ${formatPlatform(expected)} as its index says`);
  }
  const source = { registry: base.registry, repository: base.repository };
  const layers = (Array.isArray(manifest['layers']) ? (manifest['layers'] as Descriptor[]) : []).map(
    (l): ImageBlob => ({ mediaType: ociLayerType(l.mediaType), digest: l.digest, size: l.size, source }),
  );
  return { layers, config };
}

// BuildKit stores provenance and SBOMs as index entries for platform unknown/unknown, marked
// vnd.docker.reference.type: they are not images to build on.
function isAttestation(descriptor: Descriptor, platform: Platform): boolean {
  return (platform.os === 'unknown' && platform.architecture === 'unknown') || descriptor.annotations?.['vnd.docker.reference.type'] !== undefined;
}

function toPlatform(value: unknown): Platform | undefined {
  if (!isObject(value) || typeof value['os'] !== 'string' || typeof value['architecture'] !== 'string') return undefined;
  return { architecture: value['architecture'], os: value['os'], ...(typeof value['variant'] === 'string' ? { variant: value['variant'] } : {}) };
}

/** The fields of an OCI platform object, in a fixed order (a config carries them at its top level too). */
export function descriptorPlatform(source: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['architecture', 'os', 'os.version', 'os.features', 'variant']) if (source[key] !== undefined) out[key] = source[key];
  return out;
}

// Docker v2 and OCI layer bytes are the same format; the output is an OCI manifest throughout.
function ociLayerType(mediaType: string): string {
  if (mediaType === DOCKER_LAYER_GZIP) return MediaTypes.ociLayerGzip;
  if (mediaType === DOCKER_FOREIGN_LAYER) return OCI_NONDISTRIBUTABLE_LAYER;
  return mediaType;
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

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
