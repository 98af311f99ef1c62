import { DeployRefError } from './errors.js';

/** OCI: the sha256 encoded portion is exactly 64 lower-case hex characters. */
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * Tags that name a moving target rather than one build. Compared case-insensitively; callers add their
 * environment names (a `:production` tag moves with every promotion).
 */
export const FLOATING_TAGS: readonly string[] = [
  'latest', 'stable', 'edge', 'nightly', 'head', 'current', 'release',
  'main', 'master', 'develop', 'development', 'dev', 'trunk',
  'staging', 'stage', 'canary', 'production', 'prod', 'preview', 'test',
];

export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}

export function assertDigest(value: string, field = 'digest'): string {
  if (!DIGEST.test(value)) {
    throw new DeployRefError(
      'E_DIGEST_INVALID',
      `${field} "${value}" is not a digest: expected sha256: followed by 64 lower-case hex characters`,
      { field, value },
    );
  }
  return value;
}

/** True for `latest` and the other tags in FLOATING_TAGS (plus `extra`), ignoring case and a `<service>/` prefix. */
export function isFloatingTag(tag: string, extra: readonly string[] = []): boolean {
  const last = (tag.split('/').pop() ?? tag).toLowerCase();
  return [...FLOATING_TAGS, ...extra].some((floating) => floating.toLowerCase() === last);
}

function refuseFloating(value: string, field: string, extra: readonly string[]): void {
  if (isFloatingTag(value, extra)) {
    throw new DeployRefError(
      'E_FLOATING_TAG',
      `${field} "${value}" is a floating tag; Slipway deploys by digest and never records a moving tag`,
      { field, value },
    );
  }
}

// Docker's tag grammar.
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** An image tag to record next to the digest (`v1.2.3`, `1.2.3-staging.4`, `sha-abc1234`). */
export function assertImageTag(value: string, field = 'imageTag', extraFloating: readonly string[] = []): string {
  if (!IMAGE_TAG.test(value)) {
    throw new DeployRefError('E_REF_INVALID', `${field} "${value}" is not a valid image tag`, { field, value });
  }
  refuseFloating(value, field, extraFloating);
  return value;
}

// A git tag as Slipway creates them: `api/v1.2.3`, `v1.4`, `0.1.2-staging.3`. Loosely the check-ref-format rules.
const GIT_TAG = /^(?!.*\.\.)(?!.*\/\/)(?!\/)[A-Za-z0-9._\-+/]+(?<![./])$/;

export function assertReleaseTag(value: string, field = 'tag', extraFloating: readonly string[] = []): string {
  if (!GIT_TAG.test(value) || value.endsWith('.lock')) {
    throw new DeployRefError('E_REF_INVALID', `${field} "${value}" is not a valid release tag`, { field, value });
  }
  refuseFloating(value, field, extraFloating);
  return value;
}

// `1.2.3`, `1.4`, `1.4.0.1`, `1.2.3-rc.1+build.5` — the versions CONTRACT §2 can produce.
const VERSION = /^\d+(?:\.\d+){1,3}(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

export function assertVersion(value: string, field = 'version'): string {
  if (!VERSION.test(value)) {
    throw new DeployRefError('E_REF_INVALID', `${field} "${value}" is not a version (X.Y.Z)`, { field, value });
  }
  return value;
}

/** A repository without tag or digest: `ghcr.io/acme/api`, `127.0.0.1:5000/api`, `api`, `oci-layout:.slipway/images/api`. */
const REPOSITORY = /^(?:[A-Za-z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

// The embedded default stores images on disk: `oci-layout:<dir>/<repository>` (see @slipway/config).
const OCI_LAYOUT = /^oci-layout:[^\s@]*\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

export function assertImageRepository(value: string, field = 'image'): string {
  if (!REPOSITORY.test(value) && !OCI_LAYOUT.test(value)) {
    const hint = /[@]|:[^/]*$/.test(value) ? ' (name the repository only; the digest pins the image)' : '';
    throw new DeployRefError('E_REF_INVALID', `${field} "${value}" is not an image repository${hint}`, { field, value });
  }
  return value;
}

/** `1.2.3` from an image tag `v1.2.3` / `1.2.3-staging.4`; undefined for `sha-abc1234` and the like. */
export function versionFromImageTag(tag: string | undefined): string | undefined {
  if (!tag) return undefined;
  const bare = tag.startsWith('v') ? tag.slice(1) : tag;
  return VERSION.test(bare) ? bare : undefined;
}
