import fc from 'fast-check';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { classifyTag, formatTag, inspectTag, releaseTag } from './classify-tag.js';
import { TagError } from './errors.js';
import type { ClassifyOptions, Scheme } from './types.js';

const services = { api: {}, 'control-api': {}, vault: {}, cli: { kind: 'npm' as const } };
const options: Record<Scheme, ClassifyOptions> = {
  'per-service': { scheme: 'per-service', services },
  single: { scheme: 'single' },
  'staging-line': { scheme: 'staging-line' },
};

const num = fc.oneof(fc.nat(20), fc.nat(Number.MAX_SAFE_INTEGER)).map(String);
const preId = fc.oneof(
  num,
  fc.stringMatching(/^[0-9A-Za-z-]{1,8}$/).filter((id) => !/^[0-9]+$/.test(id)),
);
const pre = fc.array(preId, { minLength: 1, maxLength: 4 }).map((ids) => `-${ids.join('.')}`);
const optionalPre = fc.option(pre, { nil: '' });
const sha = fc.stringMatching(/^[0-9a-f]{7}$/).map((hex) => `sha-${hex}`);

const perServiceTag = fc
  .tuple(fc.constantFrom(...Object.keys(services)), num, num, num, optionalPre)
  .map(([service, a, b, c, p]) => `${service}/v${a}.${b}.${c}${p}`)
  .filter((tag) => tag.length - tag.indexOf('/') - 1 <= 128);
const singleRelease = fc
  .tuple(fc.array(num, { minLength: 2, maxLength: 4 }), optionalPre)
  .map(([core, p]) => `v${core.join('.')}${p}`)
  .filter((tag) => tag.length <= 128);
// Checkpoints: "v" then anything image-tag-safe that does not start like vMAJOR.MINOR.
const checkpoint = fc
  .stringMatching(/^[A-Za-z_-][A-Za-z0-9_.-]{0,20}$/)
  .map((rest) => `v${rest}`)
  .filter((tag) => !tag.includes('..') && !tag.endsWith('.') && !tag.endsWith('.lock'))
  // A mistyped version (v.1.2, v-1.2.3, vv1.2) is refused, not a checkpoint.
  .filter((tag) => !/^v[vV._-]+[0-9]+\.[0-9]/.test(tag));
const stagingTag = fc.tuple(num, num, num, fc.option(num, { nil: null })).map(([a, b, c, n]) => `${a}.${b}.${c}${n === null ? '' : `-staging.${n}`}`);

const generators: Record<Scheme, fc.Arbitrary<string>> = {
  'per-service': fc.oneof(perServiceTag, sha),
  single: fc.oneof(singleRelease, checkpoint, sha),
  'staging-line': fc.oneof(stagingTag, sha),
};

describe.each(Object.keys(options) as Scheme[])('%s', (scheme) => {
  it('round-trips: formatTag(classifyTag(t)) === t for every valid tag', () => {
    fc.assert(
      fc.property(generators[scheme], (tag) => {
        const info = classifyTag(tag, options[scheme]);
        expect(formatTag(info)).toBe(tag);
        expect(info.scheme).toBe(scheme);
      }),
      { numRuns: 1000 },
    );
  });

  it('classifies consistently: versions are semver, deploy and prerelease follow the kind', () => {
    fc.assert(
      fc.property(generators[scheme], (tag) => {
        const info = classifyTag(tag, options[scheme]);
        const inspected = inspectTag(tag, options[scheme]);
        expect(Object.keys(inspected)).toEqual(['tag', 'kind', 'service', 'version', 'deploy', 'prerelease']);
        expect(info.deploy).toBe(info.kind !== 'checkpoint' && info.kind !== 'sha');
        expect(info.prerelease).toBe(info.kind === 'prerelease' || info.kind === 'staging');
        if (info.version === null) {
          expect(['checkpoint', 'sha']).toContain(info.kind);
        } else if (info.version.split('-')[0]?.split('.').length === 3) {
          expect(semver.valid(info.version)).toBe(info.version);
          expect(semver.prerelease(info.version) !== null).toBe(info.prerelease);
          // And building the tag back from its version gives the same tag (except v1.4 → v1.4.0).
          if (!/^v[0-9]+\.[0-9]+(-|$)/.test(info.name)) {
            expect(releaseTag(info.version, { ...options[scheme], service: info.service ?? undefined })).toBe(tag);
          }
        } else {
          expect(scheme).toBe('single');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('answers any input with a TagInfo or a TagError, never anything else', () => {
    const junk = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({ unit: fc.constantFrom(...'v0123.-/+_aAsh@{}~ \u0430\uff11'.split('')), maxLength: 30 }),
      generators[scheme].map((tag) => tag.toUpperCase()),
      generators[scheme].map((tag) => ` ${tag}`),
      generators[scheme].chain((tag) => fc.nat(tag.length).map((i) => tag.slice(0, i) + tag.slice(i + 1))),
    );
    fc.assert(
      fc.property(junk, (tag) => {
        try {
          const info = classifyTag(tag, options[scheme]);
          expect(formatTag(info)).toBe(tag);
        } catch (error) {
          expect(error).toBeInstanceOf(TagError);
          expect((error as TagError).message).toMatch(/^Invalid tag "/);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
