import { appendFile } from 'node:fs/promises';
import type { Handler } from '../context.js';
import { table } from '../output.js';
import { reserveStagingVersion } from '../staging-line.js';
import { openWorkspace } from '../workspace.js';

/**
 * `slipway reserve <service> [--version-override V] [--commit REV]`: reserve X.Y.Z-staging.N for
 * the checked-out commit (HEAD, which is GITHUB_SHA in Actions) — see reserveStagingVersion. In
 * Actions the version is also written to $GITHUB_OUTPUT (`version`, `tag`, `n`) for later jobs.
 */
export const reserve: Handler = async ({ args, options }, ctx) => {
  const ws = await openWorkspace(ctx);
  const service = String(args['service']);
  const versionOverride = typeof options['versionOverride'] === 'string' ? options['versionOverride'] : undefined;
  const commit = await ws.git().resolveCommit(typeof options['commit'] === 'string' ? options['commit'] : 'HEAD');
  const result = await reserveStagingVersion(ws, {
    service,
    commit,
    ...(versionOverride === undefined ? {} : { versionOverride }),
    dryRun: ctx.dryRun,
    log: (m) => ctx.out.info(m),
  });

  const output = ctx.env['GITHUB_OUTPUT'];
  if (output && !ctx.dryRun) await appendFile(output, `version=${result.version}\ntag=${result.tag}\nn=${String(result.n)}\n`);

  const action = ctx.dryRun ? 'would reserve' : result.created ? 'reserved' : 'already reserved';
  const data = { service, commit, ...result, dryRun: ctx.dryRun };
  const human = `${action} ${result.version} at ${commit.slice(0, 7)}\n${table(['version', 'tag', 'n', 'created'], [[result.version, result.tag, String(result.n), String(result.created)]])}`;
  return { data, human };
};
