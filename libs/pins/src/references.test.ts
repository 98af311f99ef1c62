import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  assertDigest,
  assertImageRepository,
  assertImageTag,
  assertReleaseTag,
  isFloatingTag,
  versionFromImageTag,
} from './references.js';

describe('deploy references', () => {
  it.each(['latest', 'LATEST', 'staging', 'main', 'api/latest', 'production'])('%s is floating', (tag) => {
    expect(isFloatingTag(tag)).toBe(true);
  });

  it.each(['v1.2.3', '1.2.3-staging.4', 'sha-abc1234', 'api/v1.2.3', 'latest-1'])('%s is not floating', (tag) => {
    expect(isFloatingTag(tag)).toBe(false);
  });

  it('takes extra floating names (environment names)', () => {
    expect(isFloatingTag('eu-prod', ['eu-prod'])).toBe(true);
    expect(() => assertImageTag('eu-prod', 'imageTag', ['eu-prod'])).toThrow(expect.objectContaining({ code: 'E_FLOATING_TAG' }));
  });

  it('accepts exactly sha256 plus 64 lower-case hex', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const ok = /^sha256:[0-9a-f]{64}$/.test(s);
        if (ok) expect(assertDigest(s)).toBe(s);
        else expect(() => assertDigest(s)).toThrow(expect.objectContaining({ code: 'E_DIGEST_INVALID', exitCode: 2 }));
      }),
    );
    expect(() => assertDigest(`sha512:${'a'.repeat(128)}`)).toThrow(/not a digest/);
    expect(() => assertDigest(`sha256:${'a'.repeat(63)}`)).toThrow(/not a digest/);
  });

  it.each(['ghcr.io/acme/api', '127.0.0.1:5000/api', 'api', 'oci-layout:.slipway/images/api', 'registry.example.com/a/b-c_d'])('%s is a repository', (image) => {
    expect(assertImageRepository(image)).toBe(image);
  });

  it.each(['ghcr.io/acme/api:latest', 'ghcr.io/acme/API', `api@sha256:${'a'.repeat(64)}`, 'oci-layout:.slipway/images/api:v1', ''])('%j is not a repository', (image) => {
    expect(() => assertImageRepository(image)).toThrow(expect.objectContaining({ code: 'E_REF_INVALID', field: 'image' }));
  });

  it.each(['api/v1.2.3', 'v1.4', '0.1.2-staging.3', 'v1.4.0.1'])('%s is a release tag', (tag) => {
    expect(assertReleaseTag(tag)).toBe(tag);
  });

  it.each(['a..b', '/x', 'x/', 'x.lock', 'with space'])('%j is not a release tag', (tag) => {
    expect(() => assertReleaseTag(tag)).toThrow(expect.objectContaining({ code: 'E_REF_INVALID' }));
  });

  it.each([
    ['v1.2.3', '1.2.3'],
    ['1.2.3-staging.4', '1.2.3-staging.4'],
    ['sha-abc1234', undefined],
    [undefined, undefined],
  ])('version of image tag %s is %s', (tag, version) => {
    expect(versionFromImageTag(tag)).toBe(version);
  });
});
