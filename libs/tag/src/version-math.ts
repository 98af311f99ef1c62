// The two functions used, by their own modules: semver's index loads every module it has (ranges,
// comparators, their caches), which every command that reads a tag paid for at start (issue 19).
import compareSemver from 'semver/functions/compare.js';
import incSemver from 'semver/functions/inc.js';
import { VersionError } from './errors.js';
import { normalizedVersion, parseVersionText, type VersionParts } from './version-text.js';

export type Bump = 'major' | 'minor' | 'patch' | 'prerelease';
export type CommitBump = 'major' | 'minor' | 'patch';

const BUMPS: readonly string[] = ['major', 'minor', 'patch', 'prerelease'];
const PREID = /^[A-Za-z][0-9A-Za-z-]*$/;

/**
 * Parse a version as {@link TagInfo.version} writes it: semver `MAJOR.MINOR.PATCH[-pre]`, or the
 * single scheme's `MAJOR.MINOR.PATCH.REVISION[-pre]`. No "v", no build metadata.
 */
export function parseVersion(version: string): VersionParts {
  const parsed = parseVersionText(version, { min: 3, max: 4 });
  if (!parsed.ok) throw new VersionError(version, parsed.detail);
  return parsed.parts;
}

export function isPrerelease(version: string): boolean {
  return parseVersion(version).prerelease.length > 0;
}

/**
 * Semver precedence (`1.2.3` > `1.2.3-rc.2` > `1.2.3-rc.1` > `1.2.2`), extended so a fourth
 * REVISION component sorts between its release and the next patch (`1.4.0` < `1.4.0.1` < `1.4.1`);
 * a missing revision counts as 0. For plain semver it agrees with `semver.compare` exactly.
 */
export function compareVersions(a: string, b: string): -1 | 0 | 1 {
  return compareParts(parseVersion(a), parseVersion(b));
}

/** Ascending by {@link compareVersions}; versions of equal precedence keep a stable text order. */
export function sortVersions(versions: readonly string[]): string[] {
  const parsed = versions.map((version) => ({ version, parts: parseVersion(version) }));
  parsed.sort((x, y) => compareParts(x.parts, y.parts) || compareText(x.version, y.version));
  return parsed.map((p) => p.version);
}

/** The highest version, prereleases ignored unless `includePrerelease`; `null` for none. */
export function latestVersion(versions: readonly string[], options: { readonly includePrerelease?: boolean } = {}): string | null {
  const candidates = options.includePrerelease === true ? versions : versions.filter((v) => !isPrerelease(v));
  return sortVersions(candidates).at(-1) ?? null;
}

/** The highest stable version (prereleases, including `-staging.N`, ignored); `null` for none. */
export function latestStable(versions: readonly string[]): string | null {
  return latestVersion(versions, { includePrerelease: false });
}

/**
 * The version after `current` (`null`: nothing released yet, counted as `0.0.0`).
 *
 * - `major`/`minor`/`patch` follow `semver.inc`: the result never has a prerelease, and a
 *   prerelease of the target is released rather than skipped (`1.2.3-rc.1` + patch → `1.2.3`,
 *   `2.0.0-rc.1` + major → `2.0.0`, `1.2.3-rc.1` + minor → `1.3.0`).
 * - `prerelease` counts up a prerelease line (`1.2.3-rc.1` → `1.2.3-rc.2`) or starts one on the
 *   next patch (`1.2.3` → `1.2.4-rc.0`). `preid` defaults to the current prerelease's word, else
 *   `rc`; it is only accepted with `prerelease`.
 * - A REVISION (`1.4.0.1`) is a hotfix marker outside semver: bumps start from `1.4.0` as released,
 *   and the result is always plain semver.
 *
 * Throws {@link VersionError} when the result would not sort above `current`
 * (e.g. `1.2.3-rc.1` with preid `beta` → `1.2.3-beta.0`, which is lower).
 */
export function nextVersion(current: string | null, bump: Bump, options: { readonly preid?: string | undefined } = {}): string {
  if (!BUMPS.includes(bump)) throw new VersionError(String(bump), `unknown bump; expected one of ${BUMPS.join(', ')}`);
  if (options.preid !== undefined && bump !== 'prerelease') {
    throw new VersionError(options.preid, `a preid only applies to the "prerelease" bump, not "${bump}"; give an exact version instead`);
  }
  if (options.preid !== undefined && !PREID.test(options.preid)) {
    throw new VersionError(options.preid, 'a preid is a word of letters, digits and "-" that starts with a letter, e.g. "rc" or "beta"');
  }
  const parts = current === null ? { core: [0, 0, 0], prerelease: [] } : parseVersion(current);
  const base = parts.core.length > 3 ? `${parts.core.slice(0, 3).join('.')}` : normalizedVersion(parts);
  const word = parts.core.length <= 3 ? parts.prerelease[0] : undefined;
  const preid = options.preid ?? (word !== undefined && PREID.test(word) ? word : 'rc');
  const next = bump === 'prerelease' ? incSemver(base, 'prerelease', preid, '0') : incSemver(base, bump);
  if (next === null) throw new VersionError(current ?? '0.0.0', `semver cannot apply a ${bump} bump to it`);
  if (current !== null && compareVersions(next, current) <= 0) {
    throw new VersionError(
      current,
      `a ${bump} bump${options.preid === undefined ? '' : ` with preid "${options.preid}"`} gives ${next}, which does not sort above it; ${
        word === undefined ? '' : `choose a preid that sorts after "${word}", or `
      }bump patch, minor or major`,
    );
  }
  return next;
}

/**
 * The bump conventional commits ask for: breaking → major, `feat` → minor, anything else → patch.
 * While the major version is 0 (or nothing is released yet) everything moves down one place —
 * breaking → minor, `feat` → patch — the way npm's and Cargo's caret ranges read `0.y.z`
 * (`^0.2.3` accepts `0.2.x` only); leaving 0.x is a deliberate `--bump major`, never automatic.
 * `null` when there are no commits: nothing to release.
 */
export function bumpFromCommits(
  commits: ReadonlyArray<{ readonly type?: string | null | undefined; readonly breaking: boolean }>,
  current: string | null,
): CommitBump | null {
  if (commits.length === 0) return null;
  const preMajor = current === null || parseVersion(current).core[0] === 0;
  if (commits.some((c) => c.breaking)) return preMajor ? 'minor' : 'major';
  if (commits.some((c) => c.type?.toLowerCase() === 'feat')) return preMajor ? 'patch' : 'minor';
  return 'patch';
}

/**
 * The next `X.Y.Z-staging.N` for a base: one above the highest N already used for that base, or
 * N = 0 when there is none. A starting hint only — the reservation itself must be atomic
 * (create the git ref, and on "already exists" try N + 1). Entries for other bases or of other
 * shapes are ignored: `existing` is typically every tag in the repository.
 */
export function nextStagingVersion(base: string, existing: readonly string[]): string {
  const parts = parseVersion(base);
  if (parts.core.length !== 3 || parts.prerelease.length > 0) throw new VersionError(base, 'a staging base is a stable X.Y.Z');
  let highest = -1;
  for (const version of existing) {
    const match = /^(.*)-staging\.(0|[1-9][0-9]*)$/.exec(version);
    if (match?.[1] === base && match[2] !== undefined) highest = Math.max(highest, Number(match[2]));
  }
  return `${base}-staging.${String(highest + 1)}`;
}

export function compareParts(a: VersionParts, b: VersionParts): -1 | 0 | 1 {
  for (let i = 0; i < 4; i++) {
    const x = a.core[i] ?? 0;
    const y = b.core[i] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  // Prerelease precedence is semver's: delegate so the rules (numeric < alphanumeric, longer wins
  // on a shared prefix, no prerelease above any prerelease) cannot drift.
  const pre = (p: VersionParts) => (p.prerelease.length > 0 ? `0.0.0-${p.prerelease.join('.')}` : '0.0.0');
  return compareSemver(pre(a), pre(b));
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
