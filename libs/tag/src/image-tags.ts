import { classifyTag, shaTag } from './classify-tag.js';
import { TagError } from './errors.js';
import { sanitizeImageTag } from './ref-name.js';
import type { Scheme, TagInfo } from './types.js';
import { compareParts, parseVersion } from './version-math.js';
import type { VersionParts } from './version-text.js';

/** Extra tags a stable release may get (services.json `imageTags`). */
export const IMAGE_TAG_EXTRAS = ['X.Y.Z', 'X.Y', 'X', 'latest'] as const;
export type ImageTagExtra = (typeof IMAGE_TAG_EXTRAS)[number];

export interface ImageTagConfig {
  readonly scheme: Scheme;
  /**
   * The service's `imageTags` from services.json, for stable releases only: `X.Y.Z` (the version
   * without "v"), `X.Y`, `X`, `latest`. The staging line always considers `latest` on a promote.
   */
  readonly extras?: readonly string[] | undefined;
}

/**
 * What is being built or published.
 * - `tag`: a pushed release, prerelease or checkpoint tag (any scheme). A staging-line `X.Y.Z`
 *   tag is handled as `promote`, an `X.Y.Z-staging.N` tag as `staging`.
 * - `main`: a push to the main branch in the `single` scheme. `commit` is the pushed commit;
 *   pass `head` (origin/<main> as it is now) so a build that finishes after a newer one does not
 *   move the branch tag and `latest` back to an older commit.
 * - `staging`: a staging-line build of the reserved `X.Y.Z-staging.N`.
 * - `promote`: a staging-line main push promoting a staging image to `X.Y.Z`.
 *
 * `existing`: the versions (as {@link TagInfo.version}) already published for this image, in any
 * order, prereleases included or not. Floating tags only ever move forward against them.
 */
export type ImageTagEvent =
  | { readonly type: 'tag'; readonly tag: TagInfo; readonly existing: readonly string[] }
  | { readonly type: 'main'; readonly branch: string; readonly commit: string; readonly head?: string | undefined }
  | { readonly type: 'staging'; readonly version: string; readonly existing: readonly string[] }
  | { readonly type: 'promote'; readonly version: string; readonly existing: readonly string[] };

export interface ImageTagSet {
  /** Every tag to push: `immutable` first, then `floating`. */
  readonly tags: readonly string[];
  /** Tags that name one artifact forever: pushed once; an existing one with another digest is refused. */
  readonly immutable: readonly string[];
  /** Tags that follow the newest artifact (`latest`, `staging`, `X.Y`, `X`, the branch name). */
  readonly floating: readonly string[];
}

// Names a branch tag may not take: they belong to floating tags we manage or to the release
// namespaces (v… in single, digits in staging-line, sha-… everywhere).
const RESERVED_BRANCH_TAG = /^(latest|staging|sha-.*|v.*|[0-9].*)$/;

/**
 * The image tags for an event, modelled on docker/metadata-action but stricter: prereleases get
 * only their exact tags, and floating tags (`latest`, `X.Y`, `X`, `staging`) are included only
 * when the new version is the highest of its line among `existing`, so they never move backwards.
 */
export function imageTags(event: ImageTagEvent, config: ImageTagConfig): ImageTagSet {
  const extras = checkExtras(config.extras ?? []);
  switch (event.type) {
    case 'tag':
      return forTag(event.tag, event.existing, config.scheme, extras);
    case 'main':
      return forMain(event, config.scheme);
    case 'staging':
      requireScheme(event.version, 'staging', config.scheme, 'staging-line');
      return forStaging(event.version, event.existing);
    case 'promote':
      requireScheme(event.version, 'promote', config.scheme, 'staging-line');
      return forPromote(event.version, event.existing, extras);
    default: {
      const unknown: never = event;
      throw new TypeError(`unknown image tag event ${JSON.stringify(unknown)}`);
    }
  }
}

function forTag(info: TagInfo, existing: readonly string[], scheme: Scheme, extras: ReadonlySet<ImageTagExtra>): ImageTagSet {
  if (info.scheme !== scheme) {
    throw new TagError(info.tag, 'wrong-scheme', `it was classified under the ${info.scheme} scheme, but the workspace uses ${scheme}`);
  }
  if (info.kind === 'sha') throw new TagError(info.tag, 'no-image', 'a sha- tag is an image tag itself, not a release to tag images for');
  if (info.artifact === 'npm') {
    throw new TagError(info.tag, 'no-image', `service "${info.service ?? ''}" is published with npm and has no image`);
  }
  if (info.scheme === 'staging-line') {
    const version = info.version as string;
    return info.kind === 'staging' ? forStaging(version, existing) : forPromote(version, existing, extras);
  }
  if (info.kind === 'checkpoint' || info.version === null) return set([info.name], []);
  // single: "the version tag and its semver value" (seed 000); per-service: vX.Y.Z.
  const immutable = info.scheme === 'single' ? [info.name, info.version] : [info.name];
  if (info.prerelease) return set(immutable, []);
  if (extras.has('X.Y.Z')) immutable.push(info.version);
  return set(immutable, floating(info.version, existing, extras));
}

function forMain(event: { branch: string; commit: string; head?: string | undefined }, scheme: Scheme): ImageTagSet {
  if (scheme !== 'single') {
    throw new TagError(event.branch, 'wrong-scheme', `main-branch images are built in the single scheme; this workspace uses ${scheme}`, {
      subject: 'branch',
    });
  }
  const sha = shaTag(event.commit);
  const branchTag = sanitizeImageTag(event.branch);
  if (branchTag === null) throw new TagError(event.branch, 'bad-characters', 'nothing of the branch name is usable in an image tag', { subject: 'branch' });
  if (RESERVED_BRANCH_TAG.test(branchTag)) {
    throw new TagError(event.branch, 'reserved-name', `its image tag "${branchTag}" is reserved for release, sha or floating tags`, {
      subject: 'branch',
    });
  }
  if (event.head !== undefined) {
    shaTag(event.head);
    const head = event.head.toLowerCase();
    const commit = event.commit.toLowerCase();
    if (!(head.startsWith(commit) || commit.startsWith(head))) return set([sha], []);
  }
  return set([sha], [branchTag, 'latest']);
}

function forStaging(version: string, existing: readonly string[]): ImageTagSet {
  const info = classifyTag(version, { scheme: 'staging-line' });
  if (info.kind !== 'staging') throw new TagError(version, 'scheme-grammar', 'a staging build is tagged X.Y.Z-staging.N');
  const parts = parseVersion(version);
  const staging = existing.filter((v) => /-staging\.[0-9]+$/.test(v)).map(parseVersion);
  const highest = staging.every((other) => compareParts(other, parts) <= 0);
  return set([version], highest ? ['staging'] : []);
}

function forPromote(version: string, existing: readonly string[], extras: ReadonlySet<ImageTagExtra>): ImageTagSet {
  const info = classifyTag(version, { scheme: 'staging-line' });
  if (info.kind !== 'release') throw new TagError(version, 'scheme-grammar', 'the staging line promotes to a stable X.Y.Z');
  return set([version], floating(version, existing, new Set([...extras, 'latest'])));
}

/** `X.Y`, `X` and `latest`, each only when `version` is the highest stable of its line. */
function floating(version: string, existing: readonly string[], extras: ReadonlySet<ImageTagExtra>): string[] {
  const parts = parseVersion(version);
  const stable = existing.map(parseVersion).filter((p) => p.prerelease.length === 0);
  const [major = 0, minor = 0] = parts.core;
  const highestOf = (line: (p: VersionParts) => boolean) => stable.filter(line).every((other) => compareParts(other, parts) <= 0);
  const tags: string[] = [];
  if (extras.has('X.Y') && highestOf((p) => p.core[0] === major && p.core[1] === minor)) tags.push(`${major}.${minor}`);
  // A floating "0" would cross breaking changes: 0.x minors are breaking (see README, 0.x rule).
  if (extras.has('X') && major > 0 && highestOf((p) => p.core[0] === major)) tags.push(`${major}`);
  if (extras.has('latest') && highestOf(() => true)) tags.push('latest');
  return tags;
}

function checkExtras(extras: readonly string[]): ReadonlySet<ImageTagExtra> {
  for (const extra of extras) {
    if (!(IMAGE_TAG_EXTRAS as readonly string[]).includes(extra)) {
      throw new TypeError(`unknown image tag extra ${JSON.stringify(extra)}; expected ${IMAGE_TAG_EXTRAS.join(', ')}`);
    }
  }
  return new Set(extras as readonly ImageTagExtra[]);
}

function requireScheme(subject: string, event: string, scheme: Scheme, needed: Scheme): void {
  if (scheme !== needed) {
    throw new TagError(subject, 'wrong-scheme', `a ${event} event belongs to the ${needed} scheme; this workspace uses ${scheme}`, { subject: 'version' });
  }
}

function set(immutable: string[], floatingTags: string[]): ImageTagSet {
  const unique = [...new Set(immutable)];
  return { tags: [...unique, ...floatingTags], immutable: unique, floating: floatingTags };
}
