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
  if (options['fetch'] === true) {
    const git = ws.git();
    await git.fetchBranch(ws.config.mainBranch);
    await git.fetchTags();
  }
  const head = await planHead(ws);
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
  return [
    `Plan at ${result.head.ref} (${result.head.commit.slice(0, 7)}), ${result.scheme} scheme`,
    '',
    table(['SERVICE', 'LAST TAG', 'COMMITS', 'AFFECTED', 'NEXT TAG', 'WHY'], rows),
    '',
    renderBlastRadiusTable(result.blastRadius, { format: 'plain' }).trimEnd(),
  ].join('\n');
}
