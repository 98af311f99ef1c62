import { describe, expect, it } from 'vitest';
import { classifyTag, formatTag, inspectTag, releaseTag, shaTag, stagingTag } from './classify-tag.js';
import { TagError, type TagInvalidReason } from './errors.js';
import type { ClassifyOptions, ServiceMap, TagInfo, TagKind } from './types.js';

// Seed 001 (unkey): seven image services and the npm CLI.
const unkey = {
  api: {},
  frontline: {},
  vault: {},
  heimdall: {},
  krane: {},
  'control-api': {},
  'control-worker': { kind: 'image' },
  cli: { kind: 'npm' },
} satisfies ServiceMap;

const perService: ClassifyOptions = { scheme: 'per-service', services: unkey };
const single: ClassifyOptions = { scheme: 'single' };
const stagingLine: ClassifyOptions = { scheme: 'staging-line' };

type Expected = [tag: string, kind: TagKind, service: string | null, version: string | null, deploy: boolean, prerelease: boolean];

function expectInfo(info: TagInfo, [tag, kind, service, version, deploy, prerelease]: Expected): void {
  expect(inspectTag(info.tag, { scheme: info.scheme, services: unkey })).toEqual({ tag, kind, service, version, deploy, prerelease });
  expect(info).toMatchObject({ tag, kind, service, version, deploy, prerelease });
  expect(formatTag(info)).toBe(tag);
}

function reasonOf(run: () => unknown): { reason: TagInvalidReason; message: string; error: TagError } {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TagError);
    const tagError = error as TagError;
    return { reason: tagError.reason, message: tagError.message, error: tagError };
  }
  throw new Error('expected a TagError, but the call succeeded');
}

describe('per-service (seed 001)', () => {
  it.each<Expected>([
    ['api/v1.2.3', 'release', 'api', '1.2.3', true, false],
    ['vault/v0.4.0', 'release', 'vault', '0.4.0', true, false],
    ['frontline/v10.20.30', 'release', 'frontline', '10.20.30', true, false],
    ['krane/v0.0.0', 'release', 'krane', '0.0.0', true, false],
    ['control-api/v1.0.0', 'release', 'control-api', '1.0.0', true, false],
    ['control-worker/v2.1.0', 'release', 'control-worker', '2.1.0', true, false],
    // "Tags with a SemVer pre-release suffix (anything after a hyphen …) are supported."
    ['api/v1.2.3-beta', 'prerelease', 'api', '1.2.3-beta', true, true],
    ['vault/v0.4.0-rc.1', 'prerelease', 'vault', '0.4.0-rc.1', true, true],
    ['vault/v0.4.0-rc.2', 'prerelease', 'vault', '0.4.0-rc.2', true, true],
    ['heimdall/v2.0.0-alpha.3', 'prerelease', 'heimdall', '2.0.0-alpha.3', true, true],
    ['api/v1.2.3-x-y.0.a-b', 'prerelease', 'api', '1.2.3-x-y.0.a-b', true, true],
    // cli/vx.y.z: an npm package, same grammar.
    ['cli/v1.0.0', 'release', 'cli', '1.0.0', true, false],
    ['cli/v1.1.0-rc.0', 'prerelease', 'cli', '1.1.0-rc.0', true, true],
    // Seed 004: sha-<7> image tags exist in every scheme.
    ['sha-3f2a9c1', 'sha', null, null, false, false],
  ])('%s → %s', (...expected) => {
    const info = classifyTag(expected[0], perService);
    expectInfo(info, expected);
    expect(info.scheme).toBe('per-service');
  });

  it('reports the artifact of the service: npm for cli, image otherwise', () => {
    expect(classifyTag('cli/v1.0.0', perService)).toMatchObject({ artifact: 'npm', name: 'v1.0.0' });
    expect(classifyTag('api/v1.0.0', perService)).toMatchObject({ artifact: 'image', name: 'v1.0.0' });
    expect(classifyTag('control-worker/v1.0.0', perService).artifact).toBe('image');
  });

  it.each<[tag: string, reason: TagInvalidReason, says: string]>([
    // The traps of issue 3.
    ['api/v1.2', 'not-semver', 'expected MAJOR.MINOR.PATCH'],
    ['api/1.2.3', 'missing-v', 'write api/v1.2.3'],
    ['api/V1.2.3', 'missing-v', 'lowercase'],
    ['API/v1.2.3', 'unknown-service', 'did you mean "api"'],
    ['api/v01.2.3', 'leading-zero', 'MAJOR "01" has a leading zero'],
    ['api/v1.02.3', 'leading-zero', 'MINOR "02"'],
    ['api/v1.2.03', 'leading-zero', 'PATCH "03"'],
    ['api/v1.2.3-rc.01', 'leading-zero', '"01"'],
    ['api/v1.2.3+build', 'build-metadata', 'build metadata is not allowed'],
    ['api/v1.2.3-rc.1+build.5', 'build-metadata', 'image tags cannot contain "+"'],
    ['api/v1.2.3.4', 'not-semver', '4 numeric components'],
    ['api/v1.2.3-rc..1', 'ref-format', '".." is not allowed'],
    ['api/v1.2.3-', 'not-semver', 'nothing follows "-"'],
    ['api/v1.2.3-rc_1', 'not-semver', 'contains "_"'],
    ['api/vx.y.z', 'not-semver', '"x" in "x.y.z" is not a number'],
    ['api/v', 'not-semver', 'the version is empty'],
    ['api/v-1.2.3', 'not-semver', 'empty numeric component'],
    ['api/v9007199254740992.0.0', 'not-semver', 'too large'],
    // Path traversal and other ref-name tricks.
    ['api/../v1.2.3', 'ref-format', '".." is not allowed'],
    ['../api/v1.0.0', 'ref-format', '".." is not allowed'],
    ['./api/v1.0.0', 'ref-format', 'starts with "."'],
    ['api/.v1.2.3', 'ref-format', 'starts with "."'],
    ['/api/v1.2.3', 'ref-format', 'cannot start with "/"'],
    ['api//v1.2.3', 'ref-format', '"//"'],
    ['api/v1.2.3/', 'ref-format', 'cannot end with "/"'],
    ['api/v1.2.3.lock', 'ref-format', 'ends with ".lock"'],
    ['api/v1.2.3.', 'ref-format', 'cannot end with "."'],
    ['api/v1.2.3-@{1}', 'bad-characters', 'U+007B "{"'],
    ['api/v1.2.3-@1', 'not-semver', 'contains "@"'],
    ['api/release/v1.2.3', 'not-semver', 'nothing between the prefix and the version'],
    // Whitespace and control characters.
    [' api/v1.2.3', 'bad-characters', 'U+0020 (space) at position 0'],
    ['api/v1.2.3 ', 'bad-characters', 'U+0020 (space) at position 10'],
    ['api/v1.2.3\n', 'bad-characters', 'U+000A at position 10'],
    ['api/v1.2.3\t', 'bad-characters', 'U+0009'],
    ['api/v1.2.3\u0000', 'bad-characters', 'U+0000'],
    ['api/v1.2.3\u007f', 'bad-characters', 'U+007F'],
    ['api/v1.2.3\u00a0', 'bad-characters', 'U+00A0'],
    ['api/v1.2.3~1', 'bad-characters', 'git ref names forbid it'],
    ['api/v1.2.3^', 'bad-characters', 'git ref names forbid it'],
    ['api/v1.2.3:x', 'bad-characters', 'git ref names forbid it'],
    ['api/v1.2.3?', 'bad-characters', 'git ref names forbid it'],
    ['api/v1.2.3*', 'bad-characters', 'git ref names forbid it'],
    ['api/v1.2.3[0]', 'bad-characters', 'git ref names forbid it'],
    ['api\\v1.2.3', 'bad-characters', 'git ref names forbid it'],
    ['api/v1.2.3;rm', 'bad-characters', 'U+003B ";"'],
    ['api/v$(id)', 'bad-characters', 'U+0024 "$"'],
    // Unicode look-alikes: Cyrillic "а", full-width digits, a Greek omicron, a zero-width space.
    ['\u0430pi/v1.2.3', 'bad-characters', 'U+0430 "а" at position 0: tags are ASCII only'],
    ['api/v\uff11.2.3', 'bad-characters', 'U+FF11'],
    ['api/v1.2.3-rc.\u0661', 'bad-characters', 'U+0661'],
    ['vault/v0.4.0-rc.1\u200b', 'bad-characters', 'U+200B'],
    ['h\u0435imdall/v2.0.0', 'bad-characters', 'U+0435'],
    ['kr\u03bfne/v1.0.0', 'bad-characters', 'U+03BF'],
    // Services.
    ['web/v1.0.0', 'unknown-service', 'known services: api, cli, control-api, control-worker, frontline, heimdall, krane, vault'],
    ['control/v1.0.0', 'unknown-service', 'unknown service "control"'],
    ['api-gateway/v1.0.0', 'unknown-service', 'unknown service "api-gateway"'],
    ['constructor/v1.0.0', 'unknown-service', 'unknown service "constructor"'],
    ['__proto__/v1.0.0', 'unknown-service', 'unknown service "__proto__"'],
    ['toString/v1.0.0', 'unknown-service', 'unknown service "toString"'],
    ['refs/tags/api/v1.2.3', 'unknown-service', 'drop "refs/tags/"'],
    ['v1.2.3', 'missing-service', '<service>/vX.Y.Z'],
    ['1.2.3', 'missing-service', 'known services'],
    // The docs' placeholders are not tags.
    ['api/vX.Y.Z', 'not-semver', 'is not a number'],
    ['<service>/vx.y.z', 'bad-characters', 'U+003C "<"'],
    // sha tags are exactly sha-<7 lowercase hex>.
    ['sha-3F2A9C1', 'bad-sha', 'exactly 7 lowercase hexadecimal digits'],
    ['sha-3f2a9c', 'bad-sha', 'exactly 7'],
    ['sha-3f2a9c1e', 'bad-sha', 'exactly 7'],
    ['sha-3f2a9cg', 'bad-sha', 'exactly 7'],
    ['', 'empty', 'cannot be empty'],
  ])('%j is refused: %s', (tag, reason, says) => {
    const got = reasonOf(() => classifyTag(tag, perService));
    expect(got.reason).toBe(reason);
    expect(got.message).toContain(says);
    expect(got.error).toMatchObject({ name: 'TagError', code: 'E_TAG_INVALID', exitCode: 2, tag });
    expect(() => inspectTag(tag, perService)).toThrow(TagError);
  });

  it('lists the known services on the error for an unknown one', () => {
    const { error } = reasonOf(() => classifyTag('web/v1.0.0', perService));
    expect(error.knownServices).toEqual(['api', 'cli', 'control-api', 'control-worker', 'frontline', 'heimdall', 'krane', 'vault']);
  });

  it('knows no service when none are configured', () => {
    const got = reasonOf(() => classifyTag('api/v1.0.0', { scheme: 'per-service', services: {} }));
    expect(got.reason).toBe('unknown-service');
    expect(got.message).toContain('no services are configured');
  });
});

describe('per-service tag prefixes', () => {
  // Go modules tag `path/to/module/vX.Y.Z`; changesets tags npm packages `@scope/pkg@X.Y.Z`.
  const services = {
    otelhttp: { tagPrefix: 'instrumentation/net/http/otelhttp/' },
    a: {},
    ab: { tagPrefix: 'a/b/' },
    cli: { kind: 'npm', tagPrefix: '@acme/cli@' },
    tool: { kind: 'npm', tagPrefix: 'tool@' },
  } satisfies ServiceMap;
  const options: ClassifyOptions = { scheme: 'per-service', services };

  it.each<[tag: string, service: string, version: string, name: string]>([
    ['instrumentation/net/http/otelhttp/v0.70.0', 'otelhttp', '0.70.0', 'v0.70.0'],
    ['a/v1.0.0', 'a', '1.0.0', 'v1.0.0'],
    ['a/b/v2.0.0-rc.1', 'ab', '2.0.0-rc.1', 'v2.0.0-rc.1'],
    ['@acme/cli@1.2.3', 'cli', '1.2.3', '1.2.3'],
    ['tool@0.1.0-next.0', 'tool', '0.1.0-next.0', '0.1.0-next.0'],
  ])('%s belongs to %s', (tag, service, version, name) => {
    const info = classifyTag(tag, options);
    expect(info).toMatchObject({ service, version, name });
    expect(formatTag(info)).toBe(tag);
    expect(releaseTag(version, { ...options, service })).toBe(tag);
  });

  it('is prefix-safe: a/v1 is never a tag of a/b, and a/b/v1 never a tag of a', () => {
    expect(classifyTag('a/v1.0.0', options).service).toBe('a');
    expect(classifyTag('a/b/v1.0.0', options).service).toBe('ab');
    const onlyA = { scheme: 'per-service', services: { a: {} } } as const;
    expect(reasonOf(() => classifyTag('a/b/v1.0.0', onlyA)).reason).toBe('not-semver');
  });

  it.each<[tag: string, reason: TagInvalidReason, says: string]>([
    ['otelhttp/v0.70.0', 'unknown-service', 'start with its tagPrefix "instrumentation/net/http/otelhttp/"'],
    ['@acme/cli@v1.2.3', 'unexpected-v', '@acme/cli@1.2.3'],
    ['cli/v1.0.0', 'unknown-service', 'tagPrefix "@acme/cli@"'],
    ['@acme/cli@1.2', 'not-semver', '@acme/cli@MAJOR.MINOR.PATCH'],
  ])('%j is refused: %s', (tag, reason, says) => {
    const got = reasonOf(() => classifyTag(tag, options));
    expect(got.reason).toBe(reason);
    expect(got.message).toContain(says);
  });
});

describe('single (seed 000)', () => {
  it.each<Expected>([
    // "a v-prefixed semver tag such as v1.4.0 or v1.4.0.1"
    ['v1.4.0', 'release', null, '1.4.0', true, false],
    ['v1.4.0.1', 'release', null, '1.4.0.1', true, false],
    // vMAJOR.MINOR: semver value gains ".0"; the tag text is kept.
    ['v1.4', 'release', null, '1.4.0', true, false],
    ['v0.0', 'release', null, '0.0.0', true, false],
    ['v10.20.30', 'release', null, '10.20.30', true, false],
    // A fourth numeric component is a REVISION: v1.2.3.4 is a release above v1.2.3.
    ['v1.2.3.4', 'release', null, '1.2.3.4', true, false],
    // "optionally with a suffix" — a prerelease deploys too.
    ['v1.4.0-rc.1', 'prerelease', null, '1.4.0-rc.1', true, true],
    ['v1.4-beta', 'prerelease', null, '1.4.0-beta', true, true],
    ['v1.4.0.1-rc.2', 'prerelease', null, '1.4.0.1-rc.2', true, true],
    // "A non-semver marker or checkpoint tag … builds and pushes a checkpoint image … no deploy."
    ['vnext-prerelease-checkpoint', 'checkpoint', null, null, false, false],
    ['v2-checkpoint', 'checkpoint', null, null, false, false],
    ['v1', 'checkpoint', null, null, false, false],
    ['v', 'checkpoint', null, null, false, false],
    ['vMAJOR.MINOR', 'checkpoint', null, null, false, false],
    ['v_archive_2024', 'checkpoint', null, null, false, false],
    ['v.x', 'checkpoint', null, null, false, false],
    ['sha-0123abc', 'sha', null, null, false, false],
  ])('%s → %s', (...expected) => {
    const info = classifyTag(expected[0], single);
    expectInfo(info, expected);
    expect(info.name).toBe(expected[0]);
  });

  it.each<[tag: string, reason: TagInvalidReason, says: string]>([
    ['1.4.0', 'missing-v', 'did you mean v1.4.0?'],
    ['V1.4.0', 'missing-v', 'lowercase'],
    ['api/v1.2.3', 'missing-v', 'looks like a per-service tag'],
    ['release-1.4.0', 'missing-v', 'start with "v"'],
    ['latest', 'missing-v', 'start with "v"'],
    // Seed 003's mutable promotion tag is no release tag.
    ['production', 'missing-v', 'start with "v"'],
    // Starts like vMAJOR.MINOR, so it must be a valid version — never a silent checkpoint.
    ['v01.4.0', 'leading-zero', 'leading zero'],
    ['v1.04', 'leading-zero', 'MINOR "04"'],
    ['v1.4.0.01', 'leading-zero', 'REVISION "01"'],
    ['v1.2.3.4.5', 'not-semver', '5 numeric components'],
    ['v1.4.0rc1', 'not-semver', 'name a checkpoint so it does not start with v<digits>.<digit>'],
    ['v1.4.0_hotfix', 'not-semver', 'is not a number'],
    ['v1.4.0-rc.01', 'leading-zero', '"01"'],
    ['v1.4.0-', 'not-semver', 'nothing follows "-"'],
    ['v1.2.3-rc..1', 'ref-format', '".." is not allowed'],
    ['v1.4.0+build', 'build-metadata', 'build metadata'],
    ['v1.4.', 'ref-format', 'cannot end with "."'],
    ['v1.4.lock', 'ref-format', '.lock'],
    // The tag text is the image tag: no "/", at most 128 characters.
    ['v2/checkpoint', 'bad-characters', 'image tags cannot contain "/"'],
    [`v${'a'.repeat(128)}`, 'too-long', 'at most 128'],
    [`v1.2.3-${'a'.repeat(300)}`, 'too-long', 'tags are at most 255'],
    ['v1.4.0\u0430', 'bad-characters', 'U+0430'],
    ['v\uff11.4.0', 'bad-characters', 'U+FF11'],
    ['v1.4.0 ', 'bad-characters', '(space)'],
    ['v1@2', 'bad-characters', 'image tags cannot contain "@"'],
    // Version-looking typos name the tag they most likely meant instead of becoming checkpoints.
    ['v.0.8.1', 'not-semver', 'did you mean v0.8.1?'],
    ['v-1.2.3', 'not-semver', 'did you mean v1.2.3?'],
    ['v_1.4', 'not-semver', 'did you mean v1.4?'],
    ['vv1.4.0-rc.1', 'not-semver', 'did you mean v1.4.0-rc.1?'],
    ['v.01.2.3', 'not-semver', 'looks like a mistyped version'],
  ])('%j is refused: %s', (tag, reason, says) => {
    const got = reasonOf(() => classifyTag(tag, single));
    expect(got.reason).toBe(reason);
    expect(got.message).toContain(says);
  });

  it('accepts a checkpoint of exactly 128 characters (the image tag limit)', () => {
    const tag = `v${'a'.repeat(127)}`;
    expect(classifyTag(tag, single).kind).toBe('checkpoint');
  });
});

describe('staging-line (seed 002)', () => {
  it.each<Expected>([
    ['0.1.2-staging.2', 'staging', null, '0.1.2-staging.2', true, true],
    // version_override example.
    ['0.1.2-staging.99', 'staging', null, '0.1.2-staging.99', true, true],
    // First publish bootstraps at X.Y.Z-staging.0.
    ['0.1.2-staging.0', 'staging', null, '0.1.2-staging.0', true, true],
    ['0.1.2', 'release', null, '0.1.2', true, false],
    ['1.0.0', 'release', null, '1.0.0', true, false],
    ['sha-abcdef0', 'sha', null, null, false, false],
  ])('%s → %s', (...expected) => {
    expectInfo(classifyTag(expected[0], stagingLine), expected);
  });

  it.each<[tag: string, reason: TagInvalidReason, says: string]>([
    ['v0.1.2', 'unexpected-v', 'no "v": 0.1.2'],
    ['V0.1.2-staging.2', 'unexpected-v', 'no "v"'],
    ['0.1.2-rc.1', 'scheme-grammar', '0.1.2-staging.N'],
    ['0.1.2-staging', 'scheme-grammar', 'N a number'],
    ['0.1.2-staging.x', 'scheme-grammar', 'N a number'],
    ['0.1.2-staging.2.1', 'scheme-grammar', 'N a number'],
    ['0.1.2-Staging.2', 'scheme-grammar', 'N a number'],
    ['0.1.2-staging.02', 'leading-zero', '"02"'],
    ['0.1.2-staging.-1', 'scheme-grammar', 'N a number'],
    ['0.1', 'not-semver', 'X.Y.Z or X.Y.Z-staging.N'],
    ['0.1.2.3', 'not-semver', '4 numeric components'],
    ['staging', 'not-semver', 'is not a number'],
    ['latest', 'not-semver', 'is not a number'],
    ['api/0.1.2', 'scheme-grammar', 'no service prefix'],
    ['X.Y.Z-staging.N', 'not-semver', '"X" in "X.Y.Z" is not a number'],
    ['0.1.2-staging.2+sha.1', 'build-metadata', 'build metadata'],
  ])('%j is refused: %s', (tag, reason, says) => {
    const got = reasonOf(() => classifyTag(tag, stagingLine));
    expect(got.reason).toBe(reason);
    expect(got.message).toContain(says);
  });
});

describe('every scheme', () => {
  const schemes: ClassifyOptions[] = [perService, single, stagingLine];

  it.each(schemes)('refuses a 300-character tag as too long ($scheme)', (options) => {
    const prefix = options.scheme === 'per-service' ? 'api/v1.2.3-' : options.scheme === 'single' ? 'v1.2.3-' : '1.2.3-';
    const tag = prefix + 'a'.repeat(300 - prefix.length);
    expect(tag).toHaveLength(300);
    const got = reasonOf(() => classifyTag(tag, options));
    expect(got.reason).toBe('too-long');
    expect(got.message).toContain('300 characters');
    // The message stays one short line.
    expect(got.message.length).toBeLessThan(200);
  });

  it.each(schemes)('refuses look-alike and whitespace input before any grammar ($scheme)', (options) => {
    expect(reasonOf(() => classifyTag('\u0430pi/v1.2.3', options)).reason).toBe('bad-characters');
    expect(reasonOf(() => classifyTag('\t', options)).reason).toBe('bad-characters');
  });

  it('refuses an unknown scheme from untyped callers', () => {
    const got = reasonOf(() => classifyTag('v1.0.0', { scheme: 'calver' } as unknown as ClassifyOptions));
    expect(got.reason).toBe('wrong-scheme');
    expect(got.message).toContain('"calver"');
  });
});

describe('formatTag', () => {
  it('refuses an info whose parts read differently', () => {
    const info = classifyTag('api/v1.2.3', perService);
    expect(reasonOf(() => formatTag({ ...info, name: 'v1.2.4' })).reason).toBe('scheme-grammar');
    expect(reasonOf(() => formatTag({ ...info, name: 'v1.2.3-rc.1' })).reason).toBe('scheme-grammar');
    expect(reasonOf(() => formatTag({ ...info, name: '1.2.3' })).reason).toBe('missing-v');
    expect(reasonOf(() => formatTag({ ...info, scheme: 'single' })).reason).toBe('missing-v');
  });
});

describe('releaseTag and stagingTag', () => {
  it.each<[version: string, options: ClassifyOptions & { service?: string }, tag: string]>([
    ['1.2.3', { ...perService, service: 'api' }, 'api/v1.2.3'],
    ['0.4.0-rc.1', { ...perService, service: 'vault' }, 'vault/v0.4.0-rc.1'],
    ['1.4.0', single, 'v1.4.0'],
    ['1.4.0.1', single, 'v1.4.0.1'],
    ['0.1.2', stagingLine, '0.1.2'],
    ['0.1.2-staging.3', stagingLine, '0.1.2-staging.3'],
  ])('%s → %s', (version, options, tag) => {
    expect(releaseTag(version, options)).toBe(tag);
  });

  it.each<[version: string, options: ClassifyOptions & { service?: string }, reason: TagInvalidReason]>([
    ['1.2.3', perService, 'missing-service'],
    ['1.2.3', { ...perService, service: 'web' }, 'unknown-service'],
    ['v1.2.3', { ...perService, service: 'api' }, 'not-semver'],
    ['next', single, 'not-semver'],
    ['1.2', { ...perService, service: 'api' }, 'not-semver'],
    ['0.1.2-rc.1', stagingLine, 'scheme-grammar'],
  ])('%s is refused: %s', (version, options, reason) => {
    expect(reasonOf(() => releaseTag(version, options)).reason).toBe(reason);
  });

  it('builds staging tags from a stable base and N', () => {
    expect(stagingTag('0.1.2', 0)).toBe('0.1.2-staging.0');
    expect(stagingTag('0.1.2', 99)).toBe('0.1.2-staging.99');
    expect(reasonOf(() => stagingTag('0.1.2', -1)).reason).toBe('scheme-grammar');
    expect(reasonOf(() => stagingTag('0.1.2', 1.5)).reason).toBe('scheme-grammar');
    expect(reasonOf(() => stagingTag('0.1.2-rc.1', 1)).reason).toBe('scheme-grammar');
    expect(reasonOf(() => stagingTag('v0.1.2', 1)).reason).toBe('unexpected-v');
  });
});

describe('shaTag (seed 004: sha-${GITHUB_SHA::7}, computed once)', () => {
  it.each([
    ['3f2a9c1e5b7d4a6f8e0c2b4d6f8a0c2e4b6d8f0a', 'sha-3f2a9c1'],
    ['3F2A9C1E5B7D4A6F8E0C2B4D6F8A0C2E4B6D8F0A', 'sha-3f2a9c1'],
    ['0123abc', 'sha-0123abc'],
    ['a'.repeat(64), 'sha-aaaaaaa'],
  ])('%s → %s', (commit, tag) => {
    expect(shaTag(commit)).toBe(tag);
    expect(classifyTag(tag, single).kind).toBe('sha');
  });

  it.each(['', '0123ab', 'g123abc', '3f2a9c1 ', 'HEAD', 'a'.repeat(65), 'sha-3f2a9c1'])('refuses %j', (commit) => {
    const got = reasonOf(() => shaTag(commit));
    expect(got.reason).toBe('bad-commit');
    expect(got.message).toMatch(/^Invalid commit /);
  });
});
