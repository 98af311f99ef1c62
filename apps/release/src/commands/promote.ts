import { resolve } from 'node:path';
import { own, type ResolvedService } from '@slipway/config';
import { assertDigest, assertPromotion, formatTimestamp, isFloatingTag } from '@slipway/pins';
import type { CommandContext, Handler } from '../context.js';
import { PolicyError, UsageError } from '../errors.js';
import { readReleaseManifest } from '../manifest.js';
import { landChange, openPinsRepo, type Planned } from '../adapters/pins-repo.js';
import {
  currentDigests,
  describeDigest,
  imageService,
  promotedThrough,
  promotionActor,
  promotionChange,
  readPinState,
  requireEnvironment,
  resolveVersion,
  shortDigest,
  stringList,
  tryClassify,
  type Actor,
  type Described,
  type PinState,
} from '../promotion.js';
import { openWorkspace, type Workspace } from '../workspace.js';

/** What to pin, decided before the pins repository is touched. */
interface Source extends Described {
  via: 'manifest' | 'version' | 'digest';
  digest: string;
  image: string;
}

/** The JSON document of `promote` and `rollback`. */
export interface PromotionResult {
  service: string;
  environment: string;
  status: 'promoted' | 'unchanged' | 'planned';
  image: string;
  digest: string;
  version: string | null;
  tag: string | null;
  from: string;
  approvedBy: string[];
  promotedBy: string;
  promotedAt: string | null;
  path: string;
  /** The promotion commit; null when nothing changed or on a dry run. */
  commit: string | null;
  pushed: boolean;
  dryRun: boolean;
  pinsRepo: string;
}

function refuseStagingOnly(ws: Workspace, environment: string, tag: string | undefined): void {
  // CONTRACT §2: an X.Y.Z-staging.N build deploys to the staging line only; later environments take X.Y.Z.
  if (tag === undefined || own(ws.config.environments, environment)?.after === undefined) return;
  if (tryClassify(ws, tag)?.kind === 'staging') {
    throw new PolicyError('E_STAGING_ONLY', `${tag} is a staging build: it deploys only to the first environment; promote its X.Y.Z release to ${environment}`);
  }
}

async function resolveSource(ws: Workspace, service: ResolvedService, options: Record<string, unknown>, processCwd: string): Promise<Source> {
  const given = (['version', 'digest', 'manifest'] as const).filter((k) => options[k] !== undefined);
  if (given.length !== 1) throw new UsageError('name what to promote with exactly one of --version <X.Y.Z>, --digest <sha256:…> or --manifest <file>');

  if (options['digest'] !== undefined) {
    return { via: 'digest', digest: assertDigest(String(options['digest'])), image: service.image };
  }
  if (options['version'] !== undefined) {
    const resolved = await resolveVersion(ws, service, String(options['version']));
    return { via: 'version', digest: resolved.digest, image: service.image, version: resolved.version, tag: resolved.tag, imageTag: resolved.imageTag };
  }
  const path = resolve(processCwd, String(options['manifest']));
  const manifest = await readReleaseManifest(path);
  if (manifest.service !== service.name) {
    throw new UsageError(`${path}: the manifest is for service "${manifest.service}", not "${service.name}"`);
  }
  if (manifest.image !== service.image) {
    throw new UsageError(`${path}: the manifest's image ${manifest.image} is not services.${service.name}'s image ${service.image}`);
  }
  if (!manifest.deploy) {
    throw new PolicyError('E_NOT_DEPLOYABLE', `${manifest.tag} is a checkpoint build (deploy: false in ${path}); checkpoints are never deployed`);
  }
  const environments = Object.keys(ws.config.environments);
  return {
    via: 'manifest',
    digest: assertDigest(manifest.digest),
    image: manifest.image,
    version: manifest.version,
    tag: manifest.tag,
    imageTag: manifest.tags.find((t) => !isFloatingTag(t, environments)),
  };
}

/**
 * `slipway promote <service> --to <env> (--version V | --digest D | --manifest F) [--approved-by …]`
 * (CONTRACT §3, §5): everything that can be refused as bad input is refused before the pins
 * repository is opened; then gates, one commit with the audit trailers, push with retry.
 */
export const promote: Handler = async ({ args, options }, ctx) => {
  const ws = await openWorkspace(ctx);
  const service = imageService(ws, String(args['service']));
  const environment = requireEnvironment(ws, options['to'], '--to');
  const approvedBy = stringList(options['approvedBy']);
  const source = await resolveSource(ws, service, options, ctx.processCwd);
  refuseStagingOnly(ws, environment, source.tag);
  const gate = own(ws.config.environments, environment);
  const from = gate?.after ?? 'release';

  const { result, branch, checkout } = await landPromotion(ws, ctx, service, environment, approvedBy, async (state) => ({
    digest: source.digest,
    image: source.image,
    known: source.via === 'digest' ? describeDigest(state, source.digest) : { version: source.version, tag: source.tag, imageTag: source.imageTag },
    from,
  }));
  const next = Object.entries(ws.config.environments).find(([, e]) => e.after === environment)?.[0];
  const hint = next && result.status === 'promoted' ? `\nnext: slipway promote ${service.name} --to ${next} --digest ${result.digest}` : '';
  return { data: result, human: `${describePromotion(result, branch, checkout)}${hint}` };
};

/** What a promotion pins, chosen against the pins repo's current state (read again on every retry). */
export type PromotionTarget = (state: PinState) => Promise<Pick<PlanInput, 'digest' | 'image' | 'known' | 'from'>>;

/**
 * The GitOps half shared by promote and rollback: open the pins repo, plan the change against its
 * state behind the gates, and land one commit, re-planning when origin moved underneath.
 */
export async function landPromotion(
  ws: Workspace,
  ctx: CommandContext,
  service: ResolvedService,
  environment: string,
  approvedBy: readonly string[],
  target: PromotionTarget,
): Promise<{ result: PromotionResult; branch: string | undefined; checkout: boolean }> {
  const log = (m: string) => ctx.out.info(m);
  const repo = await openPinsRepo({ root: ws.root, spec: ws.config.pins.repo, env: ws.env, write: !ctx.dryRun, log });
  try {
    const actor = await promotionActor(ws.env, repo.git);
    const landed = await landChange(
      repo,
      async () => {
        const state = await readPinState(repo, ws, service);
        return planPromotion({ ws, state, environment, ...(await target(state)), approvedBy, actor, dryRun: ctx.dryRun, pinsRepo: repo.spec });
      },
      { dryRun: ctx.dryRun, env: ws.env, log },
    );
    return { result: { ...landed.result, commit: landed.commit ?? null, pushed: landed.pushed }, branch: repo.branch, checkout: repo.mode === 'checkout' };
  } finally {
    await repo.close();
  }
}

export interface PlanInput {
  ws: Workspace;
  state: PinState;
  environment: string;
  digest: string;
  image: string;
  known: Described;
  /** The environment it comes from, `release`, or `rollback`. */
  from: string;
  approvedBy: readonly string[];
  actor: Actor;
  dryRun: boolean;
  pinsRepo: string;
}

/** Gates (GateError, exit 3, when refused), then the change; none when the digest is already pinned. */
export function planPromotion(input: PlanInput): Planned<PromotionResult> {
  const { ws, state, environment, digest, known, from } = input;
  const decision = assertPromotion({
    service: state.service.name,
    environment,
    environments: ws.config.environments,
    digest,
    currentPins: currentDigests(state),
    promotedThrough: promotedThrough(state),
    approvedBy: input.approvedBy,
    rollback: from === 'rollback',
  });
  const promotedAt = new Date();
  const result: PromotionResult = {
    service: state.service.name,
    environment,
    status: decision.alreadyPinned ? 'unchanged' : input.dryRun ? 'planned' : 'promoted',
    image: input.image,
    digest,
    version: known.version ?? null,
    tag: known.tag ?? null,
    from,
    approvedBy: decision.approvedBy,
    promotedBy: input.actor.name,
    promotedAt: decision.alreadyPinned ? null : formatTimestamp(promotedAt),
    path: state.paths[environment] ?? '',
    commit: null,
    pushed: false,
    dryRun: input.dryRun,
    pinsRepo: input.pinsRepo,
  };
  if (decision.alreadyPinned) return { result, change: undefined };
  const change = promotionChange(ws, state, {
    ...known,
    environment,
    image: input.image,
    digest,
    from,
    approvedBy: decision.approvedBy,
    promotedAt,
    actor: input.actor,
  });
  return { result, change };
}

/**
 * The line a person reads after promote or rollback. `checkout`: the pins repository is the user's
 * checkout, which the pushed commit was never made in (it is behind origin until pulled).
 */
export function describePromotion(result: PromotionResult, branch: string | undefined, checkout = false): string {
  const what = `${result.service} ${result.version === null ? shortDigest(result.digest) : `${result.version} (${shortDigest(result.digest)})`}`;
  const verb = result.from === 'rollback' ? 'rolled back' : 'promoted';
  if (result.status === 'unchanged') return `${result.environment} already pins ${what}; nothing to do`;
  if (result.status === 'planned') return `dry run: would have ${verb} ${what} in ${result.environment} by writing ${result.path}; nothing was written`;
  const where = result.pushed
    ? `pushed to origin/${branch ?? ''}${checkout ? ` (this checkout is untouched: git pull --ff-only to see it)` : ''}`
    : 'committed locally (the pins repository has no origin)';
  const approvals = result.approvedBy.length > 0 ? `, approved by ${result.approvedBy.join(', ')}` : '';
  return `${verb} ${what} in ${result.environment}${approvals}: ${result.path}, commit ${(result.commit ?? '').slice(0, 12)} ${where}`;
}
