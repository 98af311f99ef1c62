import type { Handler } from '../context.js';
import { UsageError } from '../errors.js';
import { underRoots } from '../service-paths.js';
import { openWorkspace } from '../workspace.js';

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
 * `slipway affected --base <ref> [--head <ref>]` (CONTRACT §3): the services whose project, or
 * any project it depends on in the Nx project graph, has a file changed on head since it diverged
 * from base (`git diff base...head`, as `nx affected` reads it). A service with `root` in
 * services.json uses that folder alone. One service per line, in services.json order.
 */
export const affected: Handler = async ({ options }, ctx) => {
  const base = options['base'] as string | undefined;
  if (base === undefined) throw new UsageError("affected needs --base <ref>, e.g. --base origin/main (and optionally --head, default HEAD)");
  const head = (options['head'] as string | undefined) ?? 'HEAD';
  const ws = await openWorkspace(ctx);
  const files = await ws.git().changedFiles(base, head);
  const include: AffectedMatrix['include'] = [];
  for (const service of ws.serviceNames()) {
    if (files.length === 0) break;
    if (files.some(underRoots(await ws.serviceRoots(service)))) include.push({ service });
  }
  if (include.length === 0) ctx.out.info(`no service affected between ${base} and ${head} (${files.length} files changed)`);
  const matrix: AffectedMatrix = { include };
  return { data: matrix, human: include.map((i) => i.service).join('\n') };
};
