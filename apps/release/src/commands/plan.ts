import { renderBlastRadiusTable } from '@slipway/notes';
import type { Bump } from '@slipway/tag';
import type { CommandInput, Handler } from '../context.js';
import { UsageError } from '../errors.js';
import { table } from '../output.js';
import { planHead, planReleases, type ReleasePlan } from '../release-plan.js';
import { openWorkspace, type Workspace } from '../workspace.js';

/**
 * `slipway plan [service…]` (CONTRACT §3): per service, the last release, the commits since that
 * touch it or a project it depends on, the next version and tag, whether it is affected, and the
 * blast radius. Plans at `origin/<mainBranch>` as last fetched (else HEAD); `--fetch` updates it
 * and the tags from origin first. Writes nothing else.
 */
export const plan: Handler = async ({ args, options }, ctx) => {
  const ws = await openWorkspace(ctx);
  const services = selectServices(ws, args['service']);
  const { bump, preid } = bumpOptions(ws, options);
  // --fetch: origin/<mainBranch> as just fetched, with the tags (one fetch), is what planHead would
  // read; without it, planHead runs while the plan reads the tags.
  const head =
    options['fetch'] === true ? { ref: `origin/${ws.config.mainBranch}`, commit: await ws.git().fetchBranchAndTags(ws.config.mainBranch) } : planHead(ws);
  const { plan: result, details } = await planReleases(ws, { services, head, bump, preid });
  if (bump !== undefined || preid !== undefined) {
    // A bump the user asked for that cannot apply is bad input, not a note.
    const failed = [...details.values()].find((d) => d.error !== undefined);
    if (failed?.error) throw failed.error;
  }
  return { data: result, human: renderPlan(result) };
};

/** The services named on the command line (validated, in order, once each), or all of them. */
export function selectServices(ws: Workspace, arg: string | string[] | undefined): string[] {
  const named = arg === undefined ? [] : Array.isArray(arg) ? arg : [arg];
  if (named.length === 0) return ws.serviceNames();
  for (const name of named) ws.service(name);
  return [...new Set(named)];
}

/** --bump and --preid, checked against the scheme. */
export function bumpOptions(ws: Workspace, options: CommandInput['options']): { bump: Bump | undefined; preid: string | undefined } {
  const bump = options['bump'] as Bump | undefined;
  const preid = options['preid'] as string | undefined;
  if (preid !== undefined && bump !== 'prerelease') throw new UsageError('--preid only goes with --bump prerelease');
  if (bump !== undefined && ws.config.scheme === 'staging-line') {
    throw new UsageError('the staging-line scheme takes its version from the root package.json; change it there instead of --bump');
  }
  return { bump, preid };
}

function renderPlan(result: ReleasePlan): string {
  const rows = result.services.map((s) => [
    s.service,
    s.lastTag ?? '-',
    String(s.commits.length),
    s.affected ? 'yes' : 'no',
    s.nextTag ?? '-',
    s.note,
  ]);
  // Tags off the head's history play no part in the plan; say so, or a user looking for
  // api/v2.0.0-alpha.65 in the LAST TAG column wonders where it went. Shared streams name them once.
  const ignored = new Map<string, string>();
  for (const s of result.services) {
    if (s.ignoredTags.length === 0) continue;
    const list = s.ignoredTags.length <= 6 ? s.ignoredTags.join(', ') : `${s.ignoredTags.slice(0, 3).join(', ')} … ${s.ignoredTags.slice(-2).join(', ')}`;
    const key = s.ignoredTags.join('\0');
    if (!ignored.has(key)) ignored.set(key, `${result.scheme === 'per-service' ? s.service : 'all services'}: ${s.ignoredTags.length} tag${s.ignoredTags.length === 1 ? '' : 's'} not on ${result.head.ref} ${s.ignoredTags.length === 1 ? 'is' : 'are'} ignored: ${list}`);
  }
  return [
    `Plan at ${result.head.ref} (${result.head.commit.slice(0, 7)}), ${result.scheme} scheme`,
    '',
    table(['SERVICE', 'LAST TAG', 'COMMITS', 'AFFECTED', 'NEXT TAG', 'WHY'], rows),
    ...(ignored.size > 0 ? ['', ...ignored.values()] : []),
    '',
    renderBlastRadiusTable(result.blastRadius, { format: 'plain' }).trimEnd(),
  ].join('\n');
}
