import type { Handler } from '../context.js';
import { PolicyError } from '../errors.js';
import {
  describeDigest,
  heldIn,
  imageService,
  releaseTagInfo,
  requireEnvironment,
  resolveVersion,
  shortDigest,
  stringList,
  type PinState,
} from '../promotion.js';
import { openWorkspace, type Workspace } from '../workspace.js';
import { describePromotion, landPromotion } from './promote.js';

/**
 * The digest to return to, from what the environment's pin file held (never from trailers): with
 * `--to V`, V as this environment (else any) held it, else as the registry has it; without, the
 * newest digest the file held that differs from the one pinned now. Rolling back twice therefore
 * returns to where it started, as `kubectl rollout undo` does.
 */
async function target(ws: Workspace, state: PinState, environment: string, to: string | undefined): Promise<string> {
  const ran = heldIn(state, environment);
  if (to !== undefined) {
    const version = releaseTagInfo(ws, state.service, to).version ?? to;
    const anywhere = state.environments.flatMap((e) => heldIn(state, e));
    const known = ran.find((h) => h.version === version) ?? anywhere.find((h) => h.version === version);
    if (known) return known.digest;
    return (await resolveVersion(ws, state.service, to)).digest;
  }
  const now = state.current[environment]?.digest;
  if (now === undefined) {
    throw new PolicyError('E_NOTHING_TO_ROLL_BACK', `${state.service.name} has nothing pinned in ${environment}; there is nothing to roll back`);
  }
  const previous = ran.find((h) => h.digest !== now);
  if (!previous) {
    throw new PolicyError(
      'E_NOTHING_TO_ROLL_BACK',
      `${environment} has only ever run ${state.service.name} ${shortDigest(now)} according to its pin file's history; there is no earlier digest to return to`,
    );
  }
  return previous.digest;
}

/**
 * `slipway rollback <service> --env <env> [--to V] [--approved-by …]`: re-pins an earlier digest,
 * recorded as a promotion with `Slipway-From: rollback`. The environment must have run that
 * digest before (instead of the `after` gate); approvals still apply.
 */
export const rollback: Handler = async ({ args, options }, ctx) => {
  const ws = await openWorkspace(ctx);
  const service = imageService(ws, String(args['service']));
  const environment = requireEnvironment(ws, options['env'], '--env');
  const to = options['to'] === undefined ? undefined : String(options['to']);
  if (to !== undefined) releaseTagInfo(ws, service, to); // a malformed version is bad input before anything is opened
  const approvedBy = stringList(options['approvedBy']);

  const { result, branch, checkout } = await landPromotion(ws, ctx, service, environment, approvedBy, async (state) => {
    const digest = await target(ws, state, environment, to);
    return { digest, image: service.image, known: describeDigest(state, digest), from: 'rollback' };
  });
  return { data: result, human: describePromotion(result, branch, checkout) };
};
