import { GateError, UnknownEnvironmentError } from './errors.js';
import { assertDigest } from './references.js';

/** One environment of services.json `environments` (only the gate-relevant keys). */
export interface EnvironmentGate {
  /** The environment a digest must be in (or have passed through) before it may come here. */
  after?: string | undefined;
  /** How many distinct approvers are needed. With `approvers` alone, 1. */
  approvals?: number | undefined;
  /** Who may approve. Without it, any name counts toward `approvals`. */
  approvers?: readonly string[] | undefined;
}

export interface PromotionRequest {
  service: string;
  environment: string;
  /** services.json `environments`, in chain order. */
  environments: Readonly<Record<string, EnvironmentGate>>;
  digest: string;
  /** What each environment pins now (from `readPinned`); undefined = nothing pinned. */
  currentPins: Readonly<Record<string, { digest: string } | undefined>>;
  /**
   * Per environment, every digest its pin file held (read from the file at each commit that changed
   * it). Not from trailers: a trailer is what a commit message claims.
   */
  promotedThrough?: Readonly<Record<string, readonly string[]>> | undefined;
  /** Names given with `--approved-by`. */
  approvedBy: readonly string[];
  /**
   * A rollback re-pins a digest this environment ran before: instead of `after`, the digest must be in
   * `promotedThrough[environment]`. Approvals still apply.
   */
  rollback?: boolean | undefined;
}

export type GateDecision =
  | {
      allowed: true;
      /** The distinct listed approvers that counted (as spelled in the config). */
      approvedBy: string[];
      /** The digest is what the environment already pins: promoting again changes nothing. */
      alreadyPinned: boolean;
    }
  | { allowed: false; reasons: string[] };

function shortDigest(digest: string): string {
  return digest.slice(0, 'sha256:'.length + 12);
}

function normaliseName(name: string): string {
  return name.trim().toLowerCase();
}

/**
 * Decides whether `digest` may be pinned in `environment`. Pure: the caller reads the pins and history.
 *
 * - `after: E` — the digest must be pinned in E now, or be in `promotedThrough[E]`.
 * - `approvals`/`approvers` — that many DISTINCT names from `approvedBy` that are listed in `approvers`
 *   (any name when there is no list). Names compare case-insensitively and trimmed, like GitHub logins:
 *   `Alice` and `alice` are one approver. A name not on the list does not count.
 * - Re-pinning the digest the environment already has is allowed (`alreadyPinned`) without approvals:
 *   it changes nothing, and re-running a promotion must succeed.
 *
 * An unknown environment (the target or an `after`) is bad input: UnknownEnvironmentError (exit 2);
 * a malformed digest is a DeployRefError (exit 2). Refusals are data here; `assertPromotion` throws them.
 */
export function evaluatePromotion(request: PromotionRequest): GateDecision {
  const known = Object.keys(request.environments);
  // Own properties only: an environment named `constructor` or `__proto__` is unknown, not Object's.
  const gate = Object.hasOwn(request.environments, request.environment) ? request.environments[request.environment] : undefined;
  if (!gate) throw new UnknownEnvironmentError(request.environment, known);
  assertDigest(request.digest);

  const current = Object.hasOwn(request.currentPins, request.environment) ? request.currentPins[request.environment]?.digest : undefined;
  const reasons: string[] = [];
  const digest = shortDigest(request.digest);

  if (current === request.digest) {
    return { allowed: true, approvedBy: [], alreadyPinned: true };
  }

  if (request.rollback) {
    const history = request.promotedThrough?.[request.environment] ?? [];
    if (!history.includes(request.digest)) {
      reasons.push(`${request.environment} never ran ${digest}; a rollback can only return to a digest it ran before`);
    }
  } else if (gate.after !== undefined) {
    const previous = Object.hasOwn(request.environments, gate.after) ? request.environments[gate.after] : undefined;
    if (!previous) throw new UnknownEnvironmentError(gate.after, known);
    const there = request.currentPins[gate.after]?.digest;
    const passed = request.promotedThrough?.[gate.after]?.includes(request.digest) ?? false;
    if (there !== request.digest && !passed) {
      const now = there ? `${gate.after} pins ${shortDigest(there)}` : `${gate.after} pins nothing`;
      reasons.push(`${request.environment} accepts only a digest that went through ${gate.after}; ${digest} did not (${now})`);
    }
  }

  const approvers = gate.approvers;
  const needed = gate.approvals ?? (approvers && approvers.length > 0 ? 1 : 0);
  const counted: string[] = [];
  if (needed > 0) {
    const listed = approvers ? new Map(approvers.map((name) => [normaliseName(name), name])) : undefined;
    const seen = new Set<string>();
    const ignored: string[] = [];
    for (const name of request.approvedBy) {
      const key = normaliseName(name);
      if (key === '' || seen.has(key)) continue;
      seen.add(key);
      if (listed && !listed.has(key)) {
        ignored.push(name.trim());
        continue;
      }
      counted.push(listed?.get(key) ?? name.trim());
    }
    if (counted.length < needed) {
      const from = approvers ? ` from ${approvers.join(', ')}` : '';
      const got = counted.length === 0 ? 'none' : counted.join(', ');
      const not = ignored.length > 0 ? `; not approvers: ${ignored.join(', ')}` : '';
      reasons.push(`${request.environment} needs ${needed} approval${needed === 1 ? '' : 's'}${from} (--approved-by); got ${got}${not}`);
    }
  }

  return reasons.length > 0 ? { allowed: false, reasons } : { allowed: true, approvedBy: counted, alreadyPinned: false };
}

/** `evaluatePromotion`, throwing GateError (exit 3, with every reason) when refused. */
export function assertPromotion(request: PromotionRequest): { approvedBy: string[]; alreadyPinned: boolean } {
  const decision = evaluatePromotion(request);
  if (!decision.allowed) {
    throw new GateError({ service: request.service, environment: request.environment, reasons: decision.reasons });
  }
  return { approvedBy: decision.approvedBy, alreadyPinned: decision.alreadyPinned };
}
