import { describe, expect, it } from 'vitest';
import { GateError, UnknownEnvironmentError } from './errors.js';
import { assertPromotion, evaluatePromotion } from './gates.js';
import type { PromotionRequest } from './gates.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D3 = `sha256:${'3'.repeat(64)}`;

// CONTRACT §1's chain.
const environments = {
  staging: {},
  canary: { after: 'staging' },
  production: { after: 'canary', approvals: 1, approvers: ['release-manager', 'Alice'] },
};

const base: PromotionRequest = {
  service: 'api',
  environment: 'production',
  environments,
  digest: D2,
  currentPins: { staging: { digest: D3 }, canary: { digest: D2 }, production: { digest: D1 } },
  approvedBy: ['release-manager'],
};

describe('evaluatePromotion', () => {
  it.each<[string, Partial<PromotionRequest>, boolean, RegExp?]>([
    ['in order, with a listed approver', {}, true],
    ['the first environment takes anything', { environment: 'staging', digest: D1, approvedBy: [] }, true],
    ['out of order: the digest is not in canary', { digest: D3 }, false, /production accepts only a digest that went through canary; sha256:333333333333 did not \(canary pins sha256:222222222222\)/],
    ['out of order: canary pins nothing', { currentPins: {} }, false, /canary pins nothing/],
    ['passed through canary earlier, canary has moved on', { digest: D1, currentPins: { canary: { digest: D3 } }, promotedThrough: { canary: [D2, D1] } }, true],
    ['approver missing', { approvedBy: [] }, false, /production needs 1 approval from release-manager, Alice \(--approved-by\); got none$/],
    ['a non-listed approver does not count', { approvedBy: ['mallory'] }, false, /got none; not approvers: mallory/],
    ['names compare case-insensitively', { approvedBy: ['alice'] }, true],
    ['both gates fail: both reasons', { digest: D3, approvedBy: ['bob'] }, false],
    ['already pinned: nothing to do, no approval needed', { digest: D1, approvedBy: [] }, true],
  ])('%s', (_name, override, allowed, reason) => {
    const decision = evaluatePromotion({ ...base, ...override });
    expect(decision.allowed).toBe(allowed);
    if (reason && !decision.allowed) expect(decision.reasons.join('\n')).toMatch(reason);
  });

  it('counts a duplicated approver once', () => {
    const twoNeeded = { ...environments, production: { after: 'canary', approvals: 2, approvers: ['alice', 'bob', 'carol'] } };
    const refused = evaluatePromotion({ ...base, environments: twoNeeded, approvedBy: ['alice', 'alice', 'ALICE ', 'mallory'] });
    expect(refused).toEqual({
      allowed: false,
      reasons: ['production needs 2 approvals from alice, bob, carol (--approved-by); got alice; not approvers: mallory'],
    });
    expect(evaluatePromotion({ ...base, environments: twoNeeded, approvedBy: ['alice', 'Bob'] })).toEqual({ allowed: true, approvedBy: ['alice', 'bob'], alreadyPinned: false });
  });

  it('reports every missing thing at once', () => {
    const decision = evaluatePromotion({ ...base, digest: D3, approvedBy: ['bob'] });
    expect(decision.allowed ? [] : decision.reasons).toHaveLength(2);
  });

  it('approvals without a list take any distinct names; a list without a count needs one', () => {
    const anyTwo = { staging: {}, production: { approvals: 2 } };
    expect(evaluatePromotion({ ...base, environments: anyTwo, approvedBy: ['x', 'X'] }).allowed).toBe(false);
    expect(evaluatePromotion({ ...base, environments: anyTwo, approvedBy: ['x', 'y'] }).allowed).toBe(true);
    const listOnly = { production: { approvers: ['alice'] } };
    expect(evaluatePromotion({ ...base, environments: listOnly, approvedBy: [] }).allowed).toBe(false);
  });

  it('rollback: only to a digest the environment ran before; approvals still apply', () => {
    const history = { production: [D3, D1] };
    expect(evaluatePromotion({ ...base, rollback: true, digest: D3, promotedThrough: history }).allowed).toBe(true);
    const never = evaluatePromotion({ ...base, rollback: true, digest: D2, promotedThrough: history });
    expect(never.allowed ? '' : never.reasons[0]).toMatch(/production never ran sha256:222222222222/);
    expect(evaluatePromotion({ ...base, rollback: true, digest: D3, promotedThrough: history, approvedBy: [] }).allowed).toBe(false);
  });

  it('an unknown environment is bad input (exit 2), not a refusal', () => {
    expect(() => evaluatePromotion({ ...base, environment: 'prod' })).toThrow(UnknownEnvironmentError);
    expect(() => evaluatePromotion({ ...base, environment: 'prod' })).toThrow(
      expect.objectContaining({ code: 'E_UNKNOWN_ENVIRONMENT', exitCode: 2, message: 'unknown environment "prod" (known: staging, canary, production)' }),
    );
    expect(() => evaluatePromotion({ ...base, environments: { production: { after: 'qa' } } })).toThrow(expect.objectContaining({ environment: 'qa' }));
  });

  it('a malformed digest is bad input (exit 2)', () => {
    expect(() => evaluatePromotion({ ...base, digest: 'latest' })).toThrow(expect.objectContaining({ code: 'E_DIGEST_INVALID', exitCode: 2 }));
  });
});

describe('assertPromotion', () => {
  it('throws GateError (exit 3) with every reason', () => {
    let error: unknown;
    try {
      assertPromotion({ ...base, digest: D3, approvedBy: [] });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(GateError);
    expect(error).toMatchObject({ code: 'E_GATE_REFUSED', exitCode: 3, service: 'api', environment: 'production' });
    expect((error as GateError).reasons).toHaveLength(2);
    expect((error as GateError).message).toMatch(/^promotion of api to production refused: production accepts only/);
  });

  it('returns the approvers that counted', () => {
    expect(assertPromotion({ ...base, approvedBy: ['ALICE', 'mallory'] })).toEqual({ approvedBy: ['Alice'], alreadyPinned: false });
  });
});
