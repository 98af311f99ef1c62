import type { ServiceMap } from './types.js';

/** The default per-service tag prefix: `<service>/`, then `v` and the version. */
export function defaultTagPrefix(service: string): string {
  return `${service}/`;
}

/** The prefix a service's tags start with (`tagPrefix`, else `<service>/`). */
export function tagPrefixOf(services: ServiceMap, service: string): string {
  const entry = Object.hasOwn(services, service) ? services[service] : undefined;
  return entry?.tagPrefix ?? defaultTagPrefix(service);
}

/**
 * Whether versions follow the prefix bare (changesets' `@acme/cli@1.2.3`) or after a `v`
 * (`api/v1.2.3`, Go's `a/b/v0.70.0`).
 */
export function prefixTakesV(prefix: string): boolean {
  return !prefix.endsWith('@');
}

const NPM_PREFIX = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*@$/;
// A folder of a path-shaped prefix: what git accepts in a ref name, narrowed to the tag alphabet
// (no leading or trailing ".", no "..", no ".lock" ending).
const COMPONENT = /^[A-Za-z0-9_@-](?:[A-Za-z0-9._@-]*[A-Za-z0-9_@-])?$/;

/**
 * Why `prefix` cannot be a tag prefix, or `null`. A prefix is path-shaped — folders git accepts in
 * a tag name, ending in `/` — or, for npm services only, a package name followed by `@` (the tags
 * changesets writes). services.json checks the same rule (@slipway/config `tagPrefixIssue`).
 */
export function tagPrefixProblem(prefix: string, kind: 'image' | 'npm' = 'image'): string | null {
  if (prefix.endsWith('@')) {
    if (kind !== 'npm') return 'a prefix ending in "@" (changesets-style "<package>@1.2.3" tags) is only for kind "npm" services';
    return NPM_PREFIX.test(prefix) ? null : `"${prefix.slice(0, -1)}" is not an npm package name (expected "name" or "@scope/name", lowercase)`;
  }
  if (!prefix.endsWith('/')) return 'a tag prefix ends with "/" (the version follows as vX.Y.Z), e.g. "api/" or "instrumentation/otelhttp/"';
  for (const component of prefix.split('/').slice(0, -1)) {
    if (!COMPONENT.test(component) || component.includes('..') || component.endsWith('.lock')) {
      return `folder "${component}" cannot be part of a git tag name (letters, digits, "_", "-", "@" and inner "." only)`;
    }
  }
  return null;
}

interface PrefixIndex {
  /** Prefix → service, for every service of the map. */
  byPrefix: Map<string, string>;
}

const indexes = new WeakMap<ServiceMap, PrefixIndex>();

function indexOf(services: ServiceMap): PrefixIndex {
  let index = indexes.get(services);
  if (!index) {
    const byPrefix = new Map<string, string>();
    for (const service of Object.keys(services)) byPrefix.set(tagPrefixOf(services, service), service);
    indexes.set(services, (index = { byPrefix }));
  }
  return index;
}

/**
 * The service whose prefix `tag` starts with — the longest one, so with prefixes `a/` and `a/b/`,
 * `a/b/v1.0.0` belongs to `a/b/`; and `a/v1.0.0` never to `a/b/`. Candidate prefixes end at a
 * `/` or `@` of the tag, so the lookup costs one map probe per separator, not one per service.
 */
export function serviceOfTag(tag: string, services: ServiceMap): { service: string; prefix: string } | undefined {
  const { byPrefix } = indexOf(services);
  for (let at = tag.length - 1; at >= 0; at--) {
    const char = tag[at];
    if (char !== '/' && char !== '@') continue;
    const prefix = tag.slice(0, at + 1);
    const service = byPrefix.get(prefix);
    if (service !== undefined) return { service, prefix };
  }
  return undefined;
}
