import type { Output } from '../output.js';
import { imageTags } from '@slipway/tag';
import { publishArtifact, type ArtifactResult } from '../artifact.js';
import type { Handler } from '../context.js';
import { UsageError } from '../errors.js';
import { assertBuildable } from '../flows/build-preflight.js';
import { table } from '../output.js';
import { openWorkspace, type Workspace } from '../workspace.js';
import { formatStagingResult, mainPromote, stagingPush } from '../staging-line.js';
import { publishTag } from './publish.js';

export interface CiEvent {
  event: string;
  ref: string;
  sha: string | undefined;
}

/** The event from flags, else from the GitHub Actions environment. */
export function ciEvent(options: Record<string, unknown>, env: NodeJS.ProcessEnv): CiEvent {
  const pick = (flag: string, variable: string) => (typeof options[flag] === 'string' ? (options[flag] as string) : env[variable]);
  const event = pick('event', 'GITHUB_EVENT_NAME');
  const ref = pick('ref', 'GITHUB_REF');
  if (!event || !ref) throw new UsageError('slipway ci needs the event and ref: set GITHUB_EVENT_NAME and GITHUB_REF (GitHub Actions does), or pass --event and --ref');
  return { event, ref, sha: pick('sha', 'GITHUB_SHA') };
}

/** A main-line push of the single scheme: branch, sha-<7> and latest images; merging never deploys. */
async function branchBuild(ws: Workspace, branch: string, commit: string, dryRun: boolean, log: (m: string) => void, out: Output): Promise<ArtifactResult[]> {
  const head = await ws.git().fetchBranch(branch);
  const images = ws.serviceNames().map((name) => ws.service(name)).filter((s) => s.kind === 'image');
  await assertBuildable(ws, images, { commit, version: null, building: true });
  const results: ArtifactResult[] = [];
  for (const name of ws.serviceNames()) {
    const service = ws.service(name);
    if (service.kind !== 'image') continue;
    const tagSet = imageTags({ type: 'main', branch, commit, head }, { scheme: ws.config.scheme });
    results.push(await publishArtifact(ws, { service, commit, version: null, tagSet, dryRun, log, progress: (label) => out.progress(label) }));
  }
  return results;
}

export const ci: Handler = async ({ options }, ctx) => {
  const ws = await openWorkspace(ctx);
  const { event, ref, sha } = ciEvent(options, ctx.env);
  const log = (m: string) => ctx.out.info(m);
  const dryRun = ctx.dryRun;
  const scheme = ws.config.scheme;
  const versionOverride = typeof options['versionOverride'] === 'string' && options['versionOverride'] !== '' ? options['versionOverride'] : undefined;
  // Only a staging push reserves; anywhere else the override would be silently ignored.
  if (versionOverride !== undefined && !(scheme === 'staging-line' && ref === 'refs/heads/staging')) {
    throw new UsageError(`--version-override applies to a staging-line push to staging, not to ${ref} under the ${scheme} scheme`);
  }
  const route = (action: string, data: unknown, human: string) => ({ data: { event, ref, action, result: data }, human: `${action}\n${human}`.trimEnd() });

  if (event !== 'push' && event !== 'workflow_dispatch') {
    return route('nothing to do', null, `slipway ci acts on push and workflow_dispatch events, not ${event}`);
  }
  if (ref.startsWith('refs/tags/')) {
    const tag = ref.slice('refs/tags/'.length);
    if (scheme === 'staging-line') return route('nothing to do', null, `${tag}: the staging line creates its own tags; pushes of them need no action`);
    const result = await publishTag(ws, tag, { dryRun, ctx });
    return route(`publish ${tag}`, result, table(['image', 'digest', 'tags'], result.artifacts.map((a) => [a.image, a.digest, a.tags.join(', ')])));
  }
  if (!ref.startsWith('refs/heads/')) return route('nothing to do', null, `${ref} is neither a branch nor a tag`);
  const branch = ref.slice('refs/heads/'.length);
  const commit = sha ?? (await ws.git().resolveCommit('HEAD'));

  if (scheme === 'staging-line') {
    if (branch === 'staging') {
      const result = await stagingPush(ws, { commit, dryRun, log, versionOverride });
      return route('staging build', result, formatStagingResult(result));
    }
    if (branch === ws.config.mainBranch) {
      const result = await mainPromote(ws, { commit, dryRun, log });
      return route('promote staging to release', result, formatStagingResult(result));
    }
    return route('nothing to do', null, `pushes to ${branch} do not publish on the staging line`);
  }
  if (scheme === 'single' && branch === ws.config.mainBranch) {
    const artifacts = await branchBuild(ws, branch, commit, dryRun, log, ctx.out);
    return route(
      'branch build (no deploy)',
      { artifacts, dispatched: false },
      table(['image', 'digest', 'tags'], artifacts.map((a) => [a.image, a.digest, a.tags.join(', ')])),
    );
  }
  return route('nothing to do', null, `merging is not deploying: a push to ${branch} publishes nothing under the ${scheme} scheme; push a release tag`);
};
