import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseTrailers, promotionCommitMessage, promotionTrailers } from './trailers.js';
import type { PromotionTrailers } from './trailers.js';

const A = `sha256:${'a'.repeat(64)}`;
const promotion: PromotionTrailers = {
  service: 'api',
  environment: 'production',
  version: '1.2.3',
  digest: A,
  from: 'canary',
  approvedBy: ['release-manager', 'alice'],
};

describe('promotion trailers', () => {
  it('writes the CONTRACT §5 trailers, approvers as repeated lines', () => {
    expect(promotionTrailers(promotion)).toBe(
      [
        'Slipway-Service: api',
        'Slipway-Environment: production',
        'Slipway-Version: 1.2.3',
        `Slipway-Digest: ${A}`,
        'Slipway-From: canary',
        'Slipway-Approved-By: release-manager',
        'Slipway-Approved-By: alice',
        '',
      ].join('\n'),
    );
  });

  it('writes a commit message with a human subject', () => {
    expect(promotionCommitMessage({ ...promotion, body: 'Gate: canary soaked 2h.' })).toBe(
      `promote api 1.2.3 to production\n\nGate: canary soaked 2h.\n\n${promotionTrailers(promotion)}`,
    );
    expect(promotionCommitMessage({ ...promotion, version: undefined, approvedBy: [] }).split('\n')[0]).toBe('promote api sha256:aaaaaaaaaaaa to production');
    expect(promotionCommitMessage({ ...promotion, version: '1.2.2', from: 'rollback' }).split('\n')[0]).toBe('rollback api in production to 1.2.2');
  });

  it('round-trips', () => {
    expect(parseTrailers(promotionCommitMessage(promotion))).toEqual(promotion);
    const bare = { ...promotion, version: undefined, approvedBy: [] };
    expect(parseTrailers(promotionCommitMessage(bare))).toEqual(bare);
  });

  it('round-trips any valid promotion', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);
    const person = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,15}[A-Za-z0-9]$/);
    fc.assert(
      fc.property(name, name, fc.stringMatching(/^[0-9a-f]{64}$/), fc.uniqueArray(person, { maxLength: 4 }), (service, environment, hex, approvedBy) => {
        const input = { service, environment, version: '2.0.0', digest: `sha256:${hex}`, from: 'staging', approvedBy };
        expect(parseTrailers(promotionCommitMessage(input))).toEqual(input);
      }),
    );
  });

  it('reads trailers among others, with CRLF, lower-case keys and comma-separated approvers', () => {
    const message = [
      'promote api 1.2.3 to production',
      '',
      'Slipway-Service: this line is in the body and does not count',
      '',
      'Signed-off-by: Alice <alice@example.com>',
      'slipway-service: api',
      'Slipway-Environment:   production  ',
      `Slipway-Digest: ${A}`,
      'Slipway-From: canary',
      'Slipway-Approved-By: alice, bob',
      'Slipway-Approved-By: carol',
      'Co-authored-by: Bob <bob@example.com>',
      '(cherry picked from commit 0123456)',
    ].join('\r\n');
    expect(parseTrailers(message)).toEqual({ service: 'api', environment: 'production', version: undefined, digest: A, from: 'canary', approvedBy: ['alice', 'bob', 'carol'] });
  });

  it('finds Slipway trailers when another trailer paragraph was appended after them', () => {
    expect(parseTrailers(`${promotionCommitMessage(promotion)}\nReviewed-on: https://example.com/1\n`)).toEqual(promotion);
  });

  it.each([
    ['an ordinary commit', 'fix: something\n\nSigned-off-by: A <a@b>\n'],
    ['a subject that only looks like a trailer', `Slipway-Service: api\n`],
    ['a missing digest', 'promote\n\nSlipway-Service: api\nSlipway-Environment: production\n'],
    ['a malformed digest', 'promote\n\nSlipway-Service: api\nSlipway-Environment: production\nSlipway-Digest: sha256:nope\n'],
  ])('is undefined for %s', (_name, message) => {
    expect(parseTrailers(message)).toBeUndefined();
  });

  it.each([
    [{ approvedBy: ['alice\nSlipway-Digest: sha256:evil'] }, 'approvedBy'],
    [{ approvedBy: ['a, b'] }, 'approvedBy'],
    [{ from: '' }, 'from'],
    [{ service: 'Api' }, 'service'],
  ])('refuses %j, which would not read back (exit 2)', (override, field) => {
    expect(() => promotionTrailers({ ...promotion, ...override })).toThrow(expect.objectContaining({ name: 'PromotionInputError', field, exitCode: 2 }));
  });

  it('refuses a malformed digest', () => {
    expect(() => promotionTrailers({ ...promotion, digest: 'latest' })).toThrow(expect.objectContaining({ code: 'E_DIGEST_INVALID' }));
  });
});
