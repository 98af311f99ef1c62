import fc from 'fast-check';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { VersionError } from './errors.js';
import {
  bumpFromCommits,
  compareVersions,
  isPrerelease,
  latestStable,
  latestVersion,
  nextStagingVersion,
  nextVersion,
  sortVersions,
  type Bump,
  type CommitBump,
} from './version-math.js';

const numeric = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 1_000_000 }));
const identifier = fc.oneof(
  fc.constantFrom('rc', 'beta', 'alpha', 'staging', 'x-y', 'RC', '0a'),
  numeric.map(String),
  fc.stringMatching(/^[0-9A-Za-z-]{1,6}$/).filter((id) => !/^0[0-9]+$/.test(id)),
);
/** Valid semver: MAJOR.MINOR.PATCH[-pre], no build metadata. */
export const semverArb = fc
  .tuple(numeric, numeric, numeric, fc.array(identifier, { maxLength: 3 }))
  .map(([a, b, c, pre]) => `${a}.${b}.${c}${pre.length > 0 ? `-${pre.join('.')}` : ''}`);

describe('compareVersions', () => {
  it('orders a release above its prereleases (1.2.3 > 1.2.3-rc.2 > 1.2.3-rc.1)', () => {
    expect(sortVersions(['1.2.3', '1.2.3-rc.1', '1.2.2', '1.2.3-rc.2', '1.2.3-rc.10', '1.2.4-alpha.0'])).toEqual([
      '1.2.2',
      '1.2.3-rc.1',
      '1.2.3-rc.2',
      '1.2.3-rc.10',
      '1.2.3',
      '1.2.4-alpha.0',
    ]);
  });

  it.each<[string, string, -1 | 0 | 1]>([
    ['1.2.3', '1.2.3-rc.2', 1],
    ['1.2.3-rc.2', '1.2.3-rc.1', 1],
    ['1.10.0', '1.9.0', 1],
    ['1.0.0-alpha', '1.0.0-alpha.1', -1],
    ['1.0.0-alpha.1', '1.0.0-alpha.beta', -1],
    ['1.0.0-beta.11', '1.0.0-beta.2', 1],
    ['1.0.0-rc.1', '1.0.0-beta.11', 1],
    ['0.1.2-staging.99', '0.1.2-staging.100', -1],
    ['0.1.3-staging.0', '0.1.2-staging.99', 1],
    ['0.1.2', '0.1.2-staging.99', 1],
    // REVISION sits between its release and the next patch.
    ['1.4.0.1', '1.4.0', 1],
    ['1.4.0.1', '1.4.1', -1],
    ['1.4.0.1', '1.4.0.1-rc.1', 1],
    ['1.4.0.2', '1.4.0.10', -1],
    ['1.4.0.0', '1.4.0', 0],
    ['1.2.3', '1.2.3', 0],
  ])('%s vs %s → %i', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
    expect(compareVersions(b, a)).toBe(-expected || 0);
  });

  it('agrees with semver.compare on every semver version', () => {
    fc.assert(
      fc.property(semverArb, semverArb, (a, b) => {
        expect(compareVersions(a, b)).toBe(semver.compare(a, b));
      }),
      { numRuns: 2000 },
    );
  });

  it('is a total order: antisymmetric, transitive, and sorting is stable under shuffling', () => {
    const version = fc.oneof(semverArb, fc.tuple(semverArb, numeric).map(([v, r]) => v.replace(/^(\d+\.\d+\.\d+)/, `$1.${r}`)));
    fc.assert(
      fc.property(fc.array(version, { maxLength: 12 }), fc.func(fc.integer()), (versions, shuffleKey) => {
        const sorted = sortVersions(versions);
        const shuffled = [...versions].sort((x, y) => shuffleKey(x) - shuffleKey(y));
        expect(sortVersions(shuffled)).toEqual(sorted);
        for (let i = 0; i + 1 < sorted.length; i++) {
          expect(compareVersions(sorted[i] as string, sorted[i + 1] as string)).toBeLessThanOrEqual(0);
        }
        for (const a of versions) {
          for (const b of versions) expect(compareVersions(a, b)).toBe(-compareVersions(b, a) || 0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('puts every prerelease below its release', () => {
    fc.assert(
      fc.property(semverArb, fc.array(identifier, { minLength: 1, maxLength: 3 }), (version, pre) => {
        const release = version.replace(/-.*$/, '');
        expect(compareVersions(`${release}-${pre.join('.')}`, release)).toBe(-1);
      }),
    );
  });

  it.each(['v1.2.3', '1.2', '1.2.3.4.5', '01.2.3', '1.2.3-rc.01', '1.2.3+build', '1.2.3-', '', ' 1.2.3'])('refuses %j', (version) => {
    expect(() => compareVersions(version, '1.0.0')).toThrow(VersionError);
    expect(() => compareVersions('1.0.0', version)).toThrow(/^Invalid version /);
  });
});

describe('latestStable and latestVersion', () => {
  const versions = ['1.2.3-rc.1', '1.10.0-beta.1', '1.9.0', '1.2.3', '0.9.9', '1.10.0-rc.2'];

  it('ignores prereleases unless asked', () => {
    expect(latestStable(versions)).toBe('1.9.0');
    expect(latestVersion(versions)).toBe('1.9.0');
    expect(latestVersion(versions, { includePrerelease: true })).toBe('1.10.0-rc.2');
  });

  it('treats staging builds as prereleases', () => {
    expect(latestStable(['0.1.2-staging.99', '0.1.1'])).toBe('0.1.1');
    expect(latestVersion(['0.1.2-staging.9', '0.1.2-staging.10'], { includePrerelease: true })).toBe('0.1.2-staging.10');
  });

  it('answers null when there is nothing', () => {
    expect(latestStable([])).toBeNull();
    expect(latestStable(['1.0.0-rc.1'])).toBeNull();
    expect(latestVersion([], { includePrerelease: true })).toBeNull();
  });

  it('is never below any stable input', () => {
    fc.assert(
      fc.property(fc.array(semverArb, { minLength: 1, maxLength: 10 }), (list) => {
        const latest = latestStable(list);
        const stable = list.filter((v) => !isPrerelease(v));
        if (latest === null) expect(stable).toEqual([]);
        else for (const v of stable) expect(compareVersions(latest, v)).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});

describe('nextVersion', () => {
  it.each<[current: string | null, bump: Bump, preid: string | undefined, next: string]>([
    ['1.2.3', 'patch', undefined, '1.2.4'],
    ['1.2.3', 'minor', undefined, '1.3.0'],
    ['1.2.3', 'major', undefined, '2.0.0'],
    // The issue's examples.
    ['1.2.3-rc.1', 'prerelease', undefined, '1.2.3-rc.2'],
    ['1.2.3', 'prerelease', undefined, '1.2.4-rc.0'],
    ['1.2.3', 'prerelease', 'beta', '1.2.4-beta.0'],
    // A bump clears the prerelease; a prerelease of the target is released, not skipped.
    ['1.2.3-rc.1', 'patch', undefined, '1.2.3'],
    ['1.3.0-rc.1', 'minor', undefined, '1.3.0'],
    ['1.2.3-rc.1', 'minor', undefined, '1.3.0'],
    ['2.0.0-rc.1', 'major', undefined, '2.0.0'],
    ['1.2.3-rc.1', 'major', undefined, '2.0.0'],
    // The current prerelease word is kept; moving to a later word is allowed.
    ['1.2.3-beta.2', 'prerelease', undefined, '1.2.3-beta.3'],
    ['1.2.3-beta.2', 'prerelease', 'rc', '1.2.3-rc.0'],
    ['1.2.3-rc', 'prerelease', undefined, '1.2.3-rc.0'],
    ['1.2.3-0', 'prerelease', undefined, '1.2.3-rc.0'],
    ['0.4.0-rc.1', 'prerelease', 'rc', '0.4.0-rc.2'],
    ['0.1.2-staging.2', 'prerelease', undefined, '0.1.2-staging.3'],
    // Nothing released yet counts as 0.0.0.
    [null, 'patch', undefined, '0.0.1'],
    [null, 'minor', undefined, '0.1.0'],
    [null, 'major', undefined, '1.0.0'],
    [null, 'prerelease', undefined, '0.0.1-rc.0'],
    // REVISION: bumps start from MAJOR.MINOR.PATCH as released.
    ['1.4.0.1', 'patch', undefined, '1.4.1'],
    ['1.4.0.1', 'minor', undefined, '1.5.0'],
    ['1.4.0.1', 'prerelease', undefined, '1.4.1-rc.0'],
    ['1.4.0.1-rc.1', 'patch', undefined, '1.4.1'],
  ])('%s + %s (preid %s) → %s', (current, bump, preid, next) => {
    expect(nextVersion(current, bump, { preid })).toBe(next);
    if (current !== null) expect(compareVersions(next, current)).toBe(1);
  });

  it.each<[current: string | null, bump: string, preid: string | undefined, says: string]>([
    ['1.2.3-rc.1', 'prerelease', 'beta', 'gives 1.2.3-beta.0, which does not sort above it; choose a preid that sorts after "rc"'],
    ['1.2.3-rc.1', 'prerelease', 'alpha', 'does not sort above'],
    ['1.2.3', 'major', 'rc', 'only applies to the "prerelease" bump'],
    ['1.2.3', 'prerelease', '1', 'starts with a letter'],
    ['1.2.3', 'prerelease', 'rc.1', 'starts with a letter'],
    ['1.2.3', 'prerelease', '', 'starts with a letter'],
    ['1.2.3', 'premajor', undefined, 'unknown bump'],
    ['0.0.0-rc.a', 'prerelease', undefined, 'gives 0.0.0-rc.0, which does not sort above it'],
    ['v1.2.3', 'patch', undefined, 'is not a number'],
    ['1.2', 'patch', undefined, 'expected MAJOR.MINOR.PATCH'],
  ])('%s + %s (preid %j) is refused', (current, bump, preid, says) => {
    expect(() => nextVersion(current, bump as Bump, { preid })).toThrow(VersionError);
    expect(() => nextVersion(current, bump as Bump, { preid })).toThrow(says);
  });

  it('always moves up and never leaves a prerelease after major/minor/patch', () => {
    fc.assert(
      fc.property(semverArb, fc.constantFrom<Bump>('major', 'minor', 'patch', 'prerelease'), (current, bump) => {
        let next: string;
        try {
          next = nextVersion(current, bump);
        } catch (error) {
          // Only an exotic prerelease (e.g. 0.0.0-rc.a, where rc.0 would sort lower) may refuse.
          expect(error).toBeInstanceOf(VersionError);
          expect(bump).toBe('prerelease');
          expect(current).not.toMatch(/^[0-9]+\.[0-9]+\.[0-9]+(-[A-Za-z][0-9A-Za-z-]*\.(0|[1-9][0-9]*))?$/);
          return;
        }
        expect(compareVersions(next, current)).toBe(1);
        expect(semver.valid(next)).toBe(next);
        if (bump !== 'prerelease') expect(isPrerelease(next)).toBe(false);
        else expect(isPrerelease(next)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('bumpFromCommits', () => {
  const feat = { type: 'feat', breaking: false };
  const fix = { type: 'fix', breaking: false };
  const chore = { type: 'chore', breaking: false };
  const breaking = { type: 'refactor', breaking: true };
  const untyped = { breaking: false };

  it.each<[commits: Array<{ type?: string; breaking: boolean }>, current: string | null, bump: CommitBump | null]>([
    [[fix, feat, breaking], '1.2.3', 'major'],
    [[fix, feat], '1.2.3', 'minor'],
    [[{ type: 'Feat', breaking: false }], '1.2.3', 'minor'],
    [[fix, chore], '1.2.3', 'patch'],
    [[untyped], '1.2.3', 'patch'],
    [[{ type: 'feat', breaking: true }], '2.0.0-rc.1', 'major'],
    [[fix], '1.4.0.1', 'patch'],
    // 0.x: everything moves down one place.
    [[breaking], '0.4.0', 'minor'],
    [[feat], '0.4.0', 'patch'],
    [[fix], '0.4.0', 'patch'],
    [[breaking], null, 'minor'],
    [[feat], null, 'patch'],
    [[breaking], '0.9.9-rc.1', 'minor'],
    // Nothing to release.
    [[], '1.2.3', null],
    [[], null, null],
  ])('%j on %s → %s', (commits, current, bump) => {
    expect(bumpFromCommits(commits, current)).toBe(bump);
  });

  it('never leaves 0.x by itself', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ type: fc.constantFrom('feat', 'fix', 'chore', 'docs'), breaking: fc.boolean() }), { minLength: 1 }),
        semverArb.filter((v) => v.startsWith('0.')),
        (commits, current) => {
          const bump = bumpFromCommits(commits, current) as CommitBump;
          expect(nextVersion(current, bump).startsWith('0.')).toBe(true);
        },
      ),
    );
  });

  it('refuses an invalid current version', () => {
    expect(() => bumpFromCommits([feat], 'v1.0.0')).toThrow(VersionError);
  });
});

describe('nextStagingVersion (seed 002: X.Y.Z-staging.N)', () => {
  it('starts at 0 and counts past the highest N of the same base only', () => {
    expect(nextStagingVersion('0.1.2', [])).toBe('0.1.2-staging.0');
    expect(nextStagingVersion('0.1.2', ['0.1.2-staging.2', '0.1.2-staging.10', '0.1.2-staging.9'])).toBe('0.1.2-staging.11');
    expect(nextStagingVersion('0.1.2', ['0.1.1-staging.50', '10.1.2-staging.7', '0.1.2', 'v0.1.2-staging.8', 'junk'])).toBe('0.1.2-staging.0');
    expect(nextStagingVersion('0.1.2', ['0.1.2-staging.99'])).toBe('0.1.2-staging.100');
  });

  it('refuses a base that is not a stable X.Y.Z', () => {
    expect(() => nextStagingVersion('0.1.2-rc.1', [])).toThrow(VersionError);
    expect(() => nextStagingVersion('0.1', [])).toThrow(VersionError);
  });
});
