import { TagError } from './errors.js';
import { MAX_IMAGE_TAG_LENGTH, describeChar, refNameProblem } from './ref-name.js';
import { prefixTakesV, serviceOfTag, tagPrefixOf } from './tag-prefix.js';
import type { Artifact, ClassifyOptions, Scheme, ServiceMap, TagInfo, TagInspection } from './types.js';
import { normalizedVersion, parseVersionText } from './version-text.js';

/**
 * Longest tag accepted. Git itself has no fixed limit, but a tag is also a file name under
 * `.git/refs/tags/` (255 bytes on common filesystems) and a GitHub release name; every valid tag
 * of our grammars fits well inside it (63-character service + "/" + 128-character image tag).
 */
export const MAX_TAG_LENGTH = 255;

/** `sha-` and exactly 7 lowercase hex digits, as computed by {@link shaTag}. */
const SHA_TAG = /^sha-[0-9a-f]{7}$/;
// A single-scheme tag that starts like vMAJOR.MINOR is read as a version and must be a valid one;
// see README "single".
const VERSION_SHAPED = /^v[0-9]+\.[0-9]/;
const GIT_FORBIDDEN = new Set([...' ~^:?*[\\']);

/**
 * What a tag means under a scheme, or a {@link TagError} saying exactly why it is not valid.
 * The checks run from the outside in: length, characters, git ref-name rules, then the scheme's
 * grammar — so the first problem reported is the most basic one.
 */
export function classifyTag(tag: string, options: ClassifyOptions): TagInfo {
  checkCommon(tag);
  if (tag.startsWith('sha-')) return classifySha(tag, options.scheme);
  switch (options.scheme) {
    case 'per-service':
      return classifyPerService(tag, options.services);
    case 'single':
      return classifySingle(tag);
    case 'staging-line':
      return classifyStagingLine(tag);
    default: {
      const unknown: never = options;
      throw new TagError(tag, 'wrong-scheme', `unknown scheme ${JSON.stringify((unknown as { scheme: unknown }).scheme)}`);
    }
  }
}

/** `slipway tag inspect`: the CONTRACT §3 JSON for a tag. Throws {@link TagError} (exit 2). */
export function inspectTag(tag: string, options: ClassifyOptions): TagInspection {
  const info = classifyTag(tag, options);
  return {
    tag: info.tag,
    kind: info.kind,
    service: info.service,
    version: info.version,
    deploy: info.deploy,
    prerelease: info.prerelease,
  };
}

/**
 * The tag text of a {@link TagInfo}: `<service>/<name>` or `<name>`. The result is classified
 * again under the same scheme and must mean the same thing, so a hand-built or edited info can
 * never produce a tag that would be read differently.
 */
export function formatTag(info: TagInfo): string {
  const tag = `${info.prefix}${info.name}`;
  const services: ServiceMap = info.service === null ? {} : { [info.service]: { kind: info.artifact, tagPrefix: info.prefix } };
  const again = classifyTag(tag, { scheme: info.scheme, services } as ClassifyOptions);
  if (again.kind !== info.kind || again.version !== info.version || again.service !== info.service) {
    throw new TagError(
      tag,
      'scheme-grammar',
      `it reads as ${again.kind} ${again.version ?? ''} under the ${info.scheme} scheme, not as the ${info.kind} ${info.version ?? ''} described`.replace(/ {2,}/g, ' '),
    );
  }
  return tag;
}

/**
 * The release tag for a version under a scheme: `api/v1.2.3` (per-service), `v1.2.3` (single),
 * `1.2.3` or `1.2.3-staging.4` (staging-line). The version is written without "v". Throws
 * {@link TagError} when the result would not be a release, prerelease or staging tag.
 */
export function releaseTag(version: string, options: ClassifyOptions & { readonly service?: string | undefined }): string {
  let tag: string;
  if (options.scheme === 'per-service') {
    if (options.service === undefined) {
      throw new TagError(`v${version}`, 'missing-service', 'per-service release tags name a service: <service>/vX.Y.Z', {
        knownServices: Object.keys(options.services).sort(),
      });
    }
    const prefix = tagPrefixOf(options.services, options.service);
    tag = `${prefix}${prefixTakesV(prefix) ? 'v' : ''}${version}`;
  } else {
    tag = options.scheme === 'single' ? `v${version}` : version;
  }
  const info = classifyTag(tag, options);
  if (info.kind === 'checkpoint' || info.kind === 'sha') {
    throw new TagError(tag, 'not-semver', `"${version}" is not a version, so ${JSON.stringify(tag)} would be a ${info.kind} tag`);
  }
  return tag;
}

/** `X.Y.Z-staging.N` for a stable base `X.Y.Z` and a reserved number N ≥ 0. */
export function stagingTag(base: string, n: number): string {
  const tag = `${base}-staging.${String(n)}`;
  if (!Number.isSafeInteger(n) || n < 0) throw new TagError(tag, 'scheme-grammar', 'the staging number N must be a whole number ≥ 0');
  const info = classifyTag(tag, { scheme: 'staging-line' });
  if (info.kind !== 'staging') throw new TagError(tag, 'scheme-grammar', `the base "${base}" must be a stable X.Y.Z`);
  return tag;
}

/**
 * The `sha-<7 hex>` image tag of a commit. Takes a full 40-hex (SHA-1) or 64-hex (SHA-256) object
 * name or an abbreviation of at least 7 hex digits; any case in, lowercase out.
 */
export function shaTag(commit: string): string {
  if (!/^[0-9a-fA-F]{7,64}$/.test(commit)) {
    throw new TagError(commit, 'bad-commit', 'a commit is 7 to 64 hexadecimal digits (a full SHA-1 has 40)', { subject: 'commit' });
  }
  return `sha-${commit.slice(0, 7).toLowerCase()}`;
}

function checkCommon(tag: string): void {
  if (tag === '') throw new TagError(tag, 'empty', 'a tag cannot be empty');
  const length = [...tag].length;
  if (length > MAX_TAG_LENGTH) {
    throw new TagError(tag, 'too-long', `it is ${length} characters long; tags are at most ${MAX_TAG_LENGTH}`);
  }
  let position = 0;
  for (const char of tag) {
    // "@" is allowed for changesets-style npm tags (`@acme/cli@1.2.3`); git forbids only "@{".
    if (!/[A-Za-z0-9._/@-]/.test(char)) {
      if (char === '+') {
        throw new TagError(
          tag,
          'build-metadata',
          `"+" at position ${position}: build metadata is not allowed — image tags cannot contain "+", and semver ignores metadata when ordering, so it cannot tell two releases apart`,
        );
      }
      const code = char.codePointAt(0) ?? 0;
      const why =
        code > 0x7f
          ? 'tags are ASCII only (letters and digits from other scripts, or full-width forms, are refused even when they look alike)'
          : GIT_FORBIDDEN.has(char) || code < 0x20 || code === 0x7f
            ? 'git ref names forbid it'
            : 'tags use only letters, digits, ".", "_", "-", "@" and "/"';
      throw new TagError(tag, 'bad-characters', `bad character ${describeChar(char)} at position ${position}: ${why}`);
    }
    position++;
  }
  const problem = refNameProblem(tag);
  if (problem !== null) throw new TagError(tag, 'ref-format', `not a valid git tag name: ${problem}`);
}

function classifySha(tag: string, scheme: Scheme): TagInfo {
  if (!SHA_TAG.test(tag)) {
    throw new TagError(tag, 'bad-sha', 'sha tags are "sha-" followed by exactly 7 lowercase hexadecimal digits (see shaTag)');
  }
  return { tag, scheme, kind: 'sha', service: null, artifact: 'image', prefix: '', name: tag, version: null, deploy: false, prerelease: false };
}

function classifyPerService(tag: string, services: ServiceMap | undefined): TagInfo {
  // Only error messages name the known services; sorting them for every valid tag made listing
  // 10,000 tags of 100 services spend most of its time here.
  const knownServices = () => Object.keys(services ?? {}).sort();
  const describeKnown = (known: readonly string[]) => (known.length > 0 ? `known services: ${known.join(', ')}` : 'no services are configured');
  const found = services === undefined ? undefined : serviceOfTag(tag, services);
  if (found === undefined) {
    const slash = tag.indexOf('/');
    if (slash < 0) {
      const known = knownServices();
      const knownText = describeKnown(known);
      throw new TagError(tag, 'missing-service', `per-service tags are <service>/vX.Y.Z, e.g. ${exampleService(known)}/v1.2.3 (${knownText})`, {
        knownServices: known,
      });
    }
    const service = tag.slice(0, slash);
    const known = knownServices();
    const knownText = describeKnown(known);
    const lower = service.toLowerCase();
    const hint =
      service === 'refs'
        ? '; give the tag name, not the full ref (drop "refs/tags/")'
        : services !== undefined && Object.hasOwn(services, service)
          ? `; the tags of ${service} start with its tagPrefix "${tagPrefixOf(services, service)}"`
          : lower !== service && known.includes(lower)
          ? `; service names are lowercase — did you mean "${lower}"?`
          : '';
    throw new TagError(tag, 'unknown-service', `unknown service "${service}" (${knownText})${hint}`, { knownServices: known });
  }
  const { service, prefix } = found;
  const entry = (services as ServiceMap)[service];
  const artifact: Artifact = entry?.kind ?? 'image';
  const name = tag.slice(prefix.length);
  const shape = prefixTakesV(prefix) ? `${prefix}vMAJOR.MINOR.PATCH[-prerelease]` : `${prefix}MAJOR.MINOR.PATCH[-prerelease]`;
  if (name.includes('/')) {
    throw new TagError(tag, 'not-semver', `"${name}" contains "/"; the tags of ${service} are ${shape}, with nothing between the prefix and the version`);
  }
  let versionText = name;
  if (prefixTakesV(prefix)) {
    if (!name.startsWith('v')) {
      const hint = name.startsWith('V')
        ? `the "v" must be lowercase: ${prefix}v${name.slice(1)}`
        : /^[0-9]/.test(name)
          ? `write ${prefix}v${name}`
          : `the tags of ${service} are ${shape}`;
      throw new TagError(tag, 'missing-v', `the version must start with "v"; ${hint}`);
    }
    versionText = name.slice(1);
  } else if (/^[vV][0-9]/.test(name)) {
    throw new TagError(tag, 'unexpected-v', `changesets-style tags have no "v": ${prefix}${name.slice(1)}`);
  }
  const parsed = parseVersionText(versionText);
  if (!parsed.ok) {
    const detail = parsed.reason === 'not-semver' ? `${parsed.detail} (the tags of ${service} are ${shape})` : parsed.detail;
    throw new TagError(tag, parsed.reason, detail);
  }
  if (artifact === 'image') checkImageTagLength(tag, name);
  const prerelease = parsed.parts.prerelease.length > 0;
  return {
    tag,
    scheme: 'per-service',
    kind: prerelease ? 'prerelease' : 'release',
    service,
    artifact,
    prefix,
    name,
    version: normalizedVersion(parsed.parts),
    deploy: true,
    prerelease,
  };
}

function classifySingle(tag: string): TagInfo {
  if (!tag.startsWith('v')) {
    const slash = tag.indexOf('/');
    const hint = tag.startsWith('V')
      ? `the "v" must be lowercase: v${tag.slice(1)}`
      : /^[0-9]/.test(tag)
        ? `did you mean v${tag}?`
        : slash > 0 && tag.slice(slash + 1).startsWith('v')
          ? 'this looks like a per-service tag, but the workspace scheme is "single"'
          : 'release and checkpoint tags start with "v"';
    throw new TagError(tag, 'missing-v', `not a release tag: ${hint}`);
  }
  const slash = tag.indexOf('/');
  if (slash >= 0) {
    throw new TagError(tag, 'bad-characters', `"/" at position ${slash}: a single-scheme tag is also its image tag, and image tags cannot contain "/"`);
  }
  const at = tag.indexOf('@');
  if (at >= 0) throw new TagError(tag, 'bad-characters', `"@" at position ${at}: a single-scheme tag is also its image tag, and image tags cannot contain "@"`);
  checkImageTagLength(tag, tag);
  if (!VERSION_SHAPED.test(tag)) {
    const intended = likelyIntended(tag);
    if (intended !== undefined) {
      const suggestion = intended === null ? 'write it as vMAJOR.MINOR[.PATCH[.REVISION]][-prerelease]' : `did you mean ${intended}?`;
      throw new TagError(tag, 'not-semver', `it looks like a mistyped version, which would silently become a checkpoint that never deploys; ${suggestion}`);
    }
    return { tag, scheme: 'single', kind: 'checkpoint', service: null, artifact: 'image', prefix: '', name: tag, version: null, deploy: false, prerelease: false };
  }
  const parsed = parseVersionText(tag.slice(1), { min: 2, max: 4 });
  if (!parsed.ok) {
    const detail =
      parsed.reason === 'not-semver'
        ? `${parsed.detail}. It starts like a version (vMAJOR.MINOR), so it must be one: vMAJOR.MINOR[.PATCH[.REVISION]][-prerelease]; name a checkpoint so it does not start with v<digits>.<digit>`
        : parsed.detail;
    throw new TagError(tag, parsed.reason, detail);
  }
  const prerelease = parsed.parts.prerelease.length > 0;
  return {
    tag,
    scheme: 'single',
    kind: prerelease ? 'prerelease' : 'release',
    service: null,
    artifact: 'image',
    prefix: '',
    name: tag,
    version: normalizedVersion(parsed.parts),
    deploy: true,
    prerelease,
  };
}

function classifyStagingLine(tag: string): TagInfo {
  if (/^[vV][0-9]/.test(tag)) {
    throw new TagError(tag, 'unexpected-v', `staging-line tags have no "v": ${tag.slice(1)}`);
  }
  if (tag.includes('/') || tag.includes('@')) {
    throw new TagError(tag, 'scheme-grammar', 'staging-line tags are X.Y.Z or X.Y.Z-staging.N, with no service prefix');
  }
  const parsed = parseVersionText(tag);
  if (!parsed.ok) {
    const detail = parsed.reason === 'not-semver' ? `${parsed.detail} (staging-line tags are X.Y.Z or X.Y.Z-staging.N)` : parsed.detail;
    throw new TagError(tag, parsed.reason, detail);
  }
  checkImageTagLength(tag, tag);
  const pre = parsed.parts.prerelease;
  const version = normalizedVersion(parsed.parts);
  if (pre.length === 0) {
    return { tag, scheme: 'staging-line', kind: 'release', service: null, artifact: 'image', prefix: '', name: tag, version, deploy: true, prerelease: false };
  }
  if (pre.length === 2 && pre[0] === 'staging' && /^[0-9]+$/.test(pre[1] ?? '')) {
    return { tag, scheme: 'staging-line', kind: 'staging', service: null, artifact: 'image', prefix: '', name: tag, version, deploy: true, prerelease: true };
  }
  const base = parsed.parts.core.join('.');
  throw new TagError(
    tag,
    'scheme-grammar',
    `the staging line has no "-${pre.join('.')}" prereleases: tags are ${base} or ${base}-staging.N with N a number`,
  );
}

/**
 * For a single-scheme tag that is not version-shaped but only because of separators or a doubled
 * "v" right after the "v" (`v.0.8.1`, `v-1.2.3`, `v_1.2`, `vv1.2.3`): the release tag it most
 * likely meant, when that one is a valid release or prerelease. Real checkpoints (`vnext`,
 * `v2-checkpoint`) have no such reading.
 */
function likelyIntended(tag: string): string | null | undefined {
  const match = /^v[vV._-]+([0-9]+\.[0-9].*)$/.exec(tag);
  if (!match?.[1]) return undefined;
  const candidate = `v${match[1]}`;
  try {
    const info = classifySingle(candidate);
    return info.kind === 'release' || info.kind === 'prerelease' ? candidate : null;
  } catch {
    return null;
  }
}

function checkImageTagLength(tag: string, name: string): void {
  if (name.length > MAX_IMAGE_TAG_LENGTH) {
    throw new TagError(tag, 'too-long', `"${name.slice(0, 20)}…" is ${name.length} characters; as an image tag it may have at most ${MAX_IMAGE_TAG_LENGTH}`);
  }
}

function exampleService(known: readonly string[]): string {
  return known[0] ?? 'api';
}
