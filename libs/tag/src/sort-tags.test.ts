import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { latestTag, sortTags } from './sort-tags.js';
import { compareVersions } from './version-math.js';

const services = { api: {}, 'api-gateway': {}, vault: {}, cli: { kind: 'npm' as const } };

describe('sortTags (nx release #31740: sort by parsed version, never by text)', () => {
  const repoTags = [
    'api/v1.9.0',
    'api/v1.10.0',
    'api/v1.10.0-rc.1',
    'api/v1.2.3',
    'api/v1.10.0-rc.2',
    'api-gateway/v5.0.0',
    'vault/v9.0.0',
    'cli/v3.0.0',
    'api/v2.0.0-alpha.1',
    // Other tags a repository holds: not ours, not an error.
    'v9.9.9',
    'release-2024',
    'API/v99.0.0',
    'api/v1.2',
    'sha-3f2a9c1',
  ];

  it('orders one service by semver, with prereleases below their release', () => {
    expect(sortTags(repoTags, { scheme: 'per-service', services, service: 'api' }).map((t) => t.tag)).toEqual([
      'api/v1.2.3',
      'api/v1.9.0',
      'api/v1.10.0-rc.1',
      'api/v1.10.0-rc.2',
      'api/v1.10.0',
      'api/v2.0.0-alpha.1',
    ]);
  });

  it('does not mix in a service whose name starts the same (api vs api-gateway)', () => {
    expect(latestTag(repoTags, { scheme: 'per-service', services, service: 'api' })?.tag).toBe('api/v1.10.0');
    expect(latestTag(repoTags, { scheme: 'per-service', services, service: 'api', includePrerelease: true })?.tag).toBe('api/v2.0.0-alpha.1');
    expect(latestTag(repoTags, { scheme: 'per-service', services, service: 'api-gateway' })?.tag).toBe('api-gateway/v5.0.0');
    expect(latestTag(repoTags, { scheme: 'per-service', services, service: 'cli' })?.tag).toBe('cli/v3.0.0');
    expect(latestTag(repoTags, { scheme: 'per-service', services, service: 'web' })).toBeNull();
  });

  it('orders every service together by version when no service is given', () => {
    expect(latestTag(repoTags, { scheme: 'per-service', services })?.tag).toBe('vault/v9.0.0');
  });

  it('sorts single-scheme tags, REVISION and two-component tags included, and skips checkpoints', () => {
    const tags = ['v1.4.0.1', 'v1.10', 'v1.4.0', 'vnext-checkpoint', 'v1.4.1-rc.1', 'v1.4', 'v1.9.9', 'v1.4.0.10', 'v1.4.0.2'];
    expect(sortTags(tags, { scheme: 'single' }).map((t) => t.tag)).toEqual([
      'v1.4',
      'v1.4.0',
      'v1.4.0.1',
      'v1.4.0.2',
      'v1.4.0.10',
      'v1.4.1-rc.1',
      'v1.9.9',
      'v1.10',
    ]);
    expect(latestTag(['v1.4.0', 'v1.4.0.1', 'v1.4.1-rc.1'], { scheme: 'single' })?.tag).toBe('v1.4.0.1');
  });

  it('treats staging tags as prereleases on the staging line', () => {
    const tags = ['0.1.2-staging.2', '0.1.2-staging.10', '0.1.1', '0.1.2-staging.9'];
    expect(latestTag(tags, { scheme: 'staging-line' })?.tag).toBe('0.1.1');
    expect(latestTag(tags, { scheme: 'staging-line', includePrerelease: true })?.tag).toBe('0.1.2-staging.10');
  });

  it('gives the same order whatever order the tags come in', () => {
    const tag = fc
      .tuple(fc.constantFrom('api', 'vault', 'api-gateway'), fc.nat(12), fc.nat(12), fc.nat(12), fc.option(fc.constantFrom('rc.1', 'rc.2', 'rc.10', 'beta')))
      .map(([s, a, b, c, pre]) => `${s}/v${a}.${b}.${c}${pre === null ? '' : `-${pre}`}`);
    fc.assert(
      fc.property(fc.uniqueArray(tag, { maxLength: 20 }), (tags) => {
        const sorted = sortTags(tags, { scheme: 'per-service', services, service: 'api' });
        expect(sortTags([...tags].reverse(), { scheme: 'per-service', services, service: 'api' })).toEqual(sorted);
        expect(sorted.every((info) => info.service === 'api')).toBe(true);
        for (let i = 0; i + 1 < sorted.length; i++) {
          expect(compareVersions(sorted[i]?.version as string, sorted[i + 1]?.version as string)).toBe(-1);
        }
      }),
    );
  });
});
