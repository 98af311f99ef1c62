import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parsePin, renderPin, updatePin } from './pin-document.js';
import type { Pin } from './pin-document.js';

const golden = (name: string) => readFileSync(new URL(`../test/golden/${name}`, import.meta.url), 'utf8');
const A = `sha256:${'a'.repeat(64)}`;

const pin: Pin = {
  service: 'api',
  environment: 'canary',
  image: 'ghcr.io/acme/api',
  version: '1.10',
  digest: A,
  tag: 'api/v1.10',
  promotedAt: '2026-11-21T10:00:00Z',
  promotedBy: 'alice',
  from: 'staging',
};

describe('pin format', () => {
  it('rewrites a hand-edited file whole, in CONTRACT order (golden)', () => {
    const update = updatePin({ ...pin, promotedAt: new Date('2026-11-21T10:00:00.123Z') });
    expect(update(golden('pin.input.yaml'))).toBe(golden('pin.expected.yaml'));
  });

  it('writes a new file and omits what is unknown', () => {
    const { version: _v, tag: _t, ...digestOnly } = pin;
    expect(updatePin(digestOnly)(undefined)).toBe(
      `service: api\nenvironment: canary\nimage: ghcr.io/acme/api\ndigest: ${A}\npromotedAt: 2026-11-21T10:00:00Z\npromotedBy: alice\nfrom: staging\n`,
    );
  });

  it('round-trips through parsePin, versions staying strings', () => {
    expect(parsePin(renderPin(pin))).toEqual(pin);
    expect(parsePin(golden('pin.expected.yaml')).version).toBe('1.10');
  });

  it('round-trips any valid pin', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);
    fc.assert(
      fc.property(name, name, fc.stringMatching(/^\d{1,3}\.\d{1,3}\.\d{1,3}$/), fc.stringMatching(/^[0-9a-f]{64}$/), fc.date({ min: new Date('2000-01-01'), max: new Date('2999-01-01'), noInvalidDate: true }), (service, who, version, hex, at) => {
        const input = { ...pin, service, promotedBy: who, version, digest: `sha256:${hex}`, tag: `${service}/v${version}`, promotedAt: at };
        const parsed = parsePin(renderPin(input));
        expect(parsed).toEqual({ ...input, promotedAt: at.toISOString().replace(/\.\d{3}Z$/, 'Z') });
      }),
    );
  });

  it('refuses to overwrite a file that pins another service or environment', () => {
    expect(() => updatePin(pin, { path: 'deploy/canary/api.yaml' })('service: vault\nenvironment: canary\n')).toThrow(
      expect.objectContaining({ name: 'PinDocumentError', field: 'service', path: 'deploy/canary/api.yaml', exitCode: 2 }),
    );
    expect(() => updatePin(pin)('- not a pin\n')).toThrow(expect.objectContaining({ name: 'PinDocumentError', field: '' }));
  });

  it.each([
    ['digest', { digest: 'sha256:123' }, 'E_DIGEST_INVALID'],
    ['tag', { tag: 'latest' }, 'E_FLOATING_TAG'],
    ['tag', { tag: 'api/latest' }, 'E_FLOATING_TAG'],
    ['image', { image: 'ghcr.io/acme/api:latest' }, 'E_REF_INVALID'],
    ['version', { version: 'latest' }, 'E_REF_INVALID'],
  ])('renderPin refuses a bad %s (exit 2)', (field, override, code) => {
    expect(() => renderPin({ ...pin, ...override })).toThrow(expect.objectContaining({ name: 'DeployRefError', field, code, exitCode: 2 }));
  });

  it.each([
    ['service', { service: 'API' }],
    ['promotedBy', { promotedBy: 'alice\nSlipway-Digest: x' }],
    ['promotedAt', { promotedAt: 'yesterday' }],
  ])('renderPin refuses a bad %s (exit 2)', (field, override) => {
    expect(() => renderPin({ ...pin, ...override })).toThrow(expect.objectContaining({ name: 'PromotionInputError', field, exitCode: 2 }));
  });

  const valid = renderPin(pin);
  it.each([
    ['a missing digest', valid.replace(/^digest:.*\n/m, ''), 'digest', /missing/],
    ['a malformed digest', valid.replace(/^digest:.*$/m, 'digest: sha256:zz'), 'digest', /not a digest/],
    ['an empty digest', valid.replace(/^digest:.*$/m, 'digest:'), 'digest', /missing/],
    ['a floating tag', valid.replace(/^tag:.*$/m, 'tag: latest'), 'tag', /floating/],
    ['a typo', valid.replace(/^digest:/m, 'digets:'), 'digets', /unknown field/],
    ['a nested value', valid.replace(/^from:.*$/m, 'from:\n  env: staging'), 'from', /expected a string/],
    ['a duplicate key', `${valid}service: vault\n`, '', /not valid YAML/],
    ['an empty file', '# nothing\n', '', /empty/],
  ])('parsePin refuses %s, naming the field and the file (exit 2)', (_name, text, field, message) => {
    let error: unknown;
    try {
      parsePin(text, { path: 'deploy/canary/api.yaml' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ name: 'PinDocumentError', code: 'E_PIN_DOCUMENT', exitCode: 2, field, path: 'deploy/canary/api.yaml' });
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain('deploy/canary/api.yaml');
  });
});
