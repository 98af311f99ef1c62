import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyTag } from './classify-tag.js';
import { TagError, VersionError } from './errors.js';
import { imageTags, type ImageTagConfig } from './image-tags.js';
import { compareVersions, isPrerelease } from './version-math.js';

const services = { api: {}, vault: {}, cli: { kind: 'npm' as const } };
const perService = (tag: string) => classifyTag(tag, { scheme: 'per-service', services });
const single = (tag: string) => classifyTag(tag, { scheme: 'single' });
const allExtras: ImageTagConfig = { scheme: 'per-service', extras: ['X.Y.Z', 'X.Y', 'X', 'latest'] };
const commit = '3f2a9c1e5b7d4a6f8e0c2b4d6f8a0c2e4b6d8f0a';

describe('per-service releases (seed 001: ghcr.io/org/<service>:vX.Y.Z)', () => {
  it('gives a stable release only vX.Y.Z by default', () => {
    expect(imageTags({ type: 'tag', tag: perService('api/v1.2.3'), existing: [] }, { scheme: 'per-service' })).toEqual({
      tags: ['v1.2.3'],
      immutable: ['v1.2.3'],
      floating: [],
    });
  });

  it('adds the configured extras when the release is the highest', () => {
    expect(imageTags({ type: 'tag', tag: perService('api/v1.2.3'), existing: ['1.2.2', '1.1.0', '0.9.0'] }, allExtras)).toEqual({
      tags: ['v1.2.3', '1.2.3', '1.2', '1', 'latest'],
      immutable: ['v1.2.3', '1.2.3'],
      floating: ['1.2', '1', 'latest'],
    });
  });

  it('never moves latest, X or X.Y backwards', () => {
    const existing = ['1.3.0', '1.2.5', '2.0.0', '2.1.0-rc.1'];
    // A 1.2.x hotfix after 1.3.0 and 2.0.0: only its own line's X.Y moves.
    expect(imageTags({ type: 'tag', tag: perService('api/v1.2.6'), existing }, allExtras).floating).toEqual(['1.2']);
    // An older patch than one already out: nothing floats.
    expect(imageTags({ type: 'tag', tag: perService('api/v1.2.4'), existing }, allExtras).floating).toEqual([]);
    // A prerelease that is higher does not hold latest back.
    expect(imageTags({ type: 'tag', tag: perService('api/v2.0.1'), existing }, allExtras).floating).toEqual(['2.0', '2', 'latest']);
  });

  it('never gives a floating 0: 0.x minors are breaking', () => {
    expect(imageTags({ type: 'tag', tag: perService('vault/v0.4.0'), existing: [] }, allExtras).floating).toEqual(['0.4', 'latest']);
  });

  it('re-running the same release gives the same tags (idempotent publish)', () => {
    const event = { type: 'tag' as const, tag: perService('api/v1.2.3'), existing: ['1.2.3', '1.0.0'] };
    expect(imageTags(event, allExtras).tags).toEqual(['v1.2.3', '1.2.3', '1.2', '1', 'latest']);
  });

  it.each(['api/v1.2.3-beta', 'vault/v0.4.0-rc.1', 'api/v9.0.0-alpha.3'])('gives the prerelease %s only its exact tag', (tag) => {
    const info = perService(tag);
    expect(imageTags({ type: 'tag', tag: info, existing: [] }, allExtras)).toEqual({ tags: [info.name], immutable: [info.name], floating: [] });
  });

  it('refuses npm services and sha tags: there is no image to tag', () => {
    expect(() => imageTags({ type: 'tag', tag: perService('cli/v1.0.0'), existing: [] }, allExtras)).toThrow(/published with npm/);
    expect(() => imageTags({ type: 'tag', tag: perService('sha-3f2a9c1'), existing: [] }, allExtras)).toThrow(TagError);
  });

  it('refuses a tag classified under another scheme, unknown extras and invalid existing versions', () => {
    expect(() => imageTags({ type: 'tag', tag: single('v1.2.3'), existing: [] }, allExtras)).toThrow(/classified under the single scheme/);
    expect(() => imageTags({ type: 'tag', tag: perService('api/v1.2.3'), existing: [] }, { scheme: 'per-service', extras: ['edge'] })).toThrow(
      TypeError,
    );
    expect(() => imageTags({ type: 'tag', tag: perService('api/v1.2.3'), existing: ['v1.0.0'] }, allExtras)).toThrow(VersionError);
  });
});

describe('single scheme (seed 000)', () => {
  const config: ImageTagConfig = { scheme: 'single' };

  it.each([
    // "The version tag and its semver value for release-tag builds."
    ['v1.4.0', ['v1.4.0', '1.4.0']],
    ['v1.4.0.1', ['v1.4.0.1', '1.4.0.1']],
    ['v1.4', ['v1.4', '1.4.0']],
    ['v1.4.0-rc.1', ['v1.4.0-rc.1', '1.4.0-rc.1']],
    // A checkpoint image is pushed under its own tag only.
    ['vnext-prerelease-checkpoint', ['vnext-prerelease-checkpoint']],
  ])('%s → %j', (tag, tags) => {
    expect(imageTags({ type: 'tag', tag: single(tag), existing: [] }, config)).toEqual({ tags, immutable: tags, floating: [] });
  });

  it('applies extras to stable releases only, REVISION included', () => {
    const extras: ImageTagConfig = { scheme: 'single', extras: ['X.Y.Z', 'X.Y', 'latest'] };
    expect(imageTags({ type: 'tag', tag: single('v1.4.0.1'), existing: ['1.4.0'] }, extras).tags).toEqual(['v1.4.0.1', '1.4.0.1', '1.4', 'latest']);
    expect(imageTags({ type: 'tag', tag: single('v1.4.0'), existing: ['1.4.0.1'] }, extras).tags).toEqual(['v1.4.0', '1.4.0']);
    expect(imageTags({ type: 'tag', tag: single('v1.5.0-rc.1'), existing: [] }, extras).tags).toEqual(['v1.5.0-rc.1', '1.5.0-rc.1']);
  });

  it('tags a main-branch build with the branch, sha-<7> and latest', () => {
    expect(imageTags({ type: 'main', branch: 'main', commit }, config)).toEqual({
      tags: ['sha-3f2a9c1', 'main', 'latest'],
      immutable: ['sha-3f2a9c1'],
      floating: ['main', 'latest'],
    });
    expect(imageTags({ type: 'main', branch: 'release/main', commit }, config).floating).toEqual(['release-main', 'latest']);
  });

  it('keeps floating tags on the newest commit when builds finish out of order', () => {
    expect(imageTags({ type: 'main', branch: 'main', commit, head: commit }, config).floating).toEqual(['main', 'latest']);
    expect(imageTags({ type: 'main', branch: 'main', commit, head: commit.slice(0, 12) }, config).floating).toEqual(['main', 'latest']);
    expect(imageTags({ type: 'main', branch: 'main', commit, head: 'b'.repeat(40) }, config)).toEqual({
      tags: ['sha-3f2a9c1'],
      immutable: ['sha-3f2a9c1'],
      floating: [],
    });
  });

  it.each([
    ['latest', 'reserved-name'],
    ['staging', 'reserved-name'],
    ['v2', 'reserved-name'],
    ['1.x', 'reserved-name'],
    ['sha-abc', 'reserved-name'],
    ['///', 'bad-characters'],
  ])('refuses a main branch %j whose image tag would collide (%s)', (branch, reason) => {
    expect(() => imageTags({ type: 'main', branch, commit }, config)).toThrow(expect.objectContaining({ reason }) as Error);
  });

  it('refuses a bad commit and main events outside the single scheme', () => {
    expect(() => imageTags({ type: 'main', branch: 'main', commit: 'HEAD' }, config)).toThrow(/Invalid commit "HEAD"/);
    expect(() => imageTags({ type: 'main', branch: 'main', commit }, { scheme: 'per-service' })).toThrow(/single scheme/);
  });
});

describe('staging line (seed 002)', () => {
  const config: ImageTagConfig = { scheme: 'staging-line' };

  it('tags a staging build X.Y.Z-staging.N and staging', () => {
    expect(imageTags({ type: 'staging', version: '0.1.2-staging.2', existing: ['0.1.2-staging.1', '0.1.1'] }, config)).toEqual({
      tags: ['0.1.2-staging.2', 'staging'],
      immutable: ['0.1.2-staging.2'],
      floating: ['staging'],
    });
  });

  it('does not move staging back when an older build finishes last', () => {
    expect(imageTags({ type: 'staging', version: '0.1.2-staging.2', existing: ['0.1.2-staging.3'] }, config).floating).toEqual([]);
    expect(imageTags({ type: 'staging', version: '0.1.2-staging.99', existing: ['0.1.2-staging.100'] }, config).floating).toEqual([]);
    expect(imageTags({ type: 'staging', version: '0.1.3-staging.0', existing: ['0.1.2-staging.100', '0.1.2'] }, config).floating).toEqual([
      'staging',
    ]);
  });

  it('promotes on main to X.Y.Z and latest, latest only when highest', () => {
    expect(imageTags({ type: 'promote', version: '0.1.2', existing: ['0.1.1', '0.1.2-staging.2'] }, config)).toEqual({
      tags: ['0.1.2', 'latest'],
      immutable: ['0.1.2'],
      floating: ['latest'],
    });
    expect(imageTags({ type: 'promote', version: '0.1.2', existing: ['0.2.0'] }, config).tags).toEqual(['0.1.2']);
  });

  it('handles the same pushed tags through the tag event', () => {
    const tag = (t: string) => classifyTag(t, { scheme: 'staging-line' });
    expect(imageTags({ type: 'tag', tag: tag('0.1.2-staging.2'), existing: [] }, config).tags).toEqual(['0.1.2-staging.2', 'staging']);
    expect(imageTags({ type: 'tag', tag: tag('0.1.2'), existing: [] }, config).tags).toEqual(['0.1.2', 'latest']);
  });

  it('refuses versions of the wrong shape and events of other schemes', () => {
    expect(() => imageTags({ type: 'staging', version: '0.1.2', existing: [] }, config)).toThrow(/X.Y.Z-staging.N/);
    expect(() => imageTags({ type: 'staging', version: '0.1.2-rc.1', existing: [] }, config)).toThrow(TagError);
    expect(() => imageTags({ type: 'promote', version: '0.1.2-staging.1', existing: [] }, config)).toThrow(/stable X.Y.Z/);
    expect(() => imageTags({ type: 'promote', version: '0.1.2', existing: [] }, { scheme: 'single' })).toThrow(/staging-line scheme/);
    expect(() => imageTags({ type: 'staging', version: '0.1.2-staging.1', existing: [] }, { scheme: 'per-service' })).toThrow(TagError);
  });
});

describe('latest never moves backwards (property)', () => {
  const version = fc
    .tuple(fc.nat(4), fc.nat(4), fc.nat(4), fc.option(fc.constantFrom('rc.1', 'rc.2', 'beta')))
    .map(([a, b, c, pre]) => `${a}.${b}.${c}${pre === null ? '' : `-${pre}`}`);

  it('over any sequence of per-service releases, latest only ever points higher', () => {
    fc.assert(
      fc.property(fc.array(version, { maxLength: 25 }), (releases) => {
        const published: string[] = [];
        let latest: string | null = null;
        for (const v of releases) {
          const set = imageTags({ type: 'tag', tag: perService(`api/v${v}`), existing: published }, allExtras);
          if (set.floating.includes('latest')) {
            expect(isPrerelease(v)).toBe(false);
            if (latest !== null) expect(compareVersions(v, latest)).toBeGreaterThanOrEqual(0);
            latest = v;
          }
          if (isPrerelease(v)) expect(set.tags).toEqual([`v${v}`]);
          published.push(v);
        }
        // And latest ends on the highest stable release, if there is one.
        const stable = published.filter((v) => !isPrerelease(v)).sort(compareVersions);
        expect(latest).toBe(stable.at(-1) ?? null);
      }),
    );
  });
});
