import { nxAffectedProjects } from '../adapters/project-graph.js';
import type { Handler } from '../context.js';
import { UsageError } from '../errors.js';
import { underRoots } from '../service-paths.js';
import { openWorkspace, type Workspace } from '../workspace.js';

/**
 * The `--json` document: a GitHub Actions matrix, used as
 * `strategy: { matrix: ${{ fromJSON(needs.affected.outputs.matrix) }} }` with `matrix.service` in
 * the job. `include` is empty when nothing is affected; Actions refuses an empty matrix, so guard
 * the job with `if: fromJSON(needs.affected.outputs.matrix).include[0] != null`.
 */
export interface AffectedMatrix {
  include: Array<{ service: string }>;
}

/**
 * `slipway affected --base <ref> [--head <ref>]` (CONTRACT §3): the services a change from where
 * head diverged from base (`git diff base...head`) touches. A service backed by an Nx project is
 * affected exactly when `nx affected` would run its `release-check`: Nx answers, so its project,
 * the projects it depends on, and changes outside every project that Nx counts (nx.json, the
 * lockfile, global inputs) all decide it the same way. A service with `root` in services.json
 * uses that folder alone and needs no Nx. One service per line, in services.json order.
 */
export const affected: Handler = async ({ options }, ctx) => {
  const base = options['base'] as string | undefined;
  if (base === undefined) throw new UsageError("affected needs --base <ref>, e.g. --base origin/main (and optionally --head, default HEAD)");
  const head = (options['head'] as string | undefined) ?? 'HEAD';
  const ws = await openWorkspace(ctx);
  // Also proves both refs exist before Nx is asked.
  const files = await ws.git().changedFiles(base, head);
  const services = ws.serviceNames().map((name) => ws.service(name));
  const viaNx = files.length > 0 && services.some((s) => s.root === undefined);
  if (viaNx) ctx.out.info(`${files.length} files changed; asking Nx which projects that affects…`);
  // The graph only to name a service whose project Nx does not know, which Nx would silently skip.
  const [nxAffected] = viaNx ? await Promise.all([nxAffectedProjects(ws.root, base, head), checkProjects(ws, services)]) : [new Set<string>()];
  const include: AffectedMatrix['include'] = [];
  for (const service of files.length === 0 ? [] : services) {
    const hit = service.root === undefined ? nxAffected.has(service.project) : files.some(underRoots(service.roots ?? [service.root]));
    if (hit) include.push({ service: service.name });
  }
  if (include.length === 0) ctx.out.info(`no service affected between ${base} and ${head} (${files.length} files changed)`);
  const matrix: AffectedMatrix = { include };
  return { data: matrix, human: include.map((i) => i.service).join('\n') };
};

async function checkProjects(ws: Workspace, services: ReadonlyArray<{ name: string; root?: string | undefined }>): Promise<void> {
  for (const service of services) if (service.root === undefined) await ws.serviceRoots(service.name);
}
