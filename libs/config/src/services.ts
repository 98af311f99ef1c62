import { ConfigError } from './errors.js';
import { own } from './json-depth.js';
import type { BuildConfig, ServicesFile } from './schema.js';

export interface ResolvedService {
  name: string;
  /** The Nx project that holds the code. */
  project: string;
  /** The first of its folders (`root`, or the first of `roots`); undefined → from the Nx graph. */
  root: string | undefined;
  /** Every folder of its code from services.json (`root` or `roots`); undefined → from the Nx graph. */
  roots: readonly string[] | undefined;
  /** What its tags start with (per-service scheme): `tagPrefix`, default `<service>/`. */
  tagPrefix: string;
  /** Where its prerelease tags may point: the service's setting, else the workspace's. */
  prereleaseFrom: 'main' | 'any-branch';
  kind: 'image' | 'npm';
  /** Image repository reference without a tag, e.g. `ghcr.io/acme/api` or `oci-layout:.slipway/images/api`. */
  image: string;
  build: BuildConfig | undefined;
  imageTags: readonly string[];
  makeLatest: boolean;
}

export function serviceNames(config: ServicesFile): string[] {
  return Object.keys(config.services);
}

/** One service's settings with every default applied; unknown names are bad input. */
export function getService(config: ServicesFile, name: string): ResolvedService {
  const service = own(config.services, name);
  if (!service) {
    throw new ConfigError(`unknown service "${name}" (services.json has: ${serviceNames(config).join(', ')})`, {
      code: 'E_UNKNOWN_SERVICE',
    });
  }
  return {
    name,
    project: service.project ?? name,
    root: service.root ?? service.roots?.[0],
    roots: service.roots ?? (service.root === undefined ? undefined : [service.root]),
    tagPrefix: service.tagPrefix ?? `${name}/`,
    prereleaseFrom: service.prereleaseFrom ?? config.prereleaseFrom,
    kind: service.kind,
    image: service.image ?? `${config.registry.replace(/\/+$/, '')}/${name}`,
    build: service.build,
    imageTags: service.imageTags ?? [],
    makeLatest: service.makeLatest,
  };
}

/** Environments in promotion order: each one after the one it names in `after`. */
export function environmentOrder(config: ServicesFile): string[] {
  const names = Object.keys(config.environments);
  const depth = (name: string, seen = new Set<string>()): number => {
    const after = own(config.environments, name)?.after;
    if (after === undefined || seen.has(name)) return 0;
    seen.add(name);
    return 1 + depth(after, seen);
  };
  return names
    .map((name, index) => ({ name, index, depth: depth(name) }))
    .sort((a, b) => a.depth - b.depth || a.index - b.index)
    .map((e) => e.name);
}

/** Expands the pins.path template for one service and environment. */
export function pinPath(config: ServicesFile, service: string, environment: string): string {
  return config.pins.path.replaceAll('{service}', service).replaceAll('{environment}', environment);
}
