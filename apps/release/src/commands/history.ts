import type { Handler } from '../context.js';
import { table } from '../output.js';
import { openPinsRepo } from '../adapters/pins-repo.js';
import { imageService, readPinState, requireEnvironment, shortDigest, type PromotionRecord } from '../promotion.js';
import { openWorkspace } from '../workspace.js';

/**
 * `slipway history <service> [--env E]`: the promotion record read back from the pins repository's
 * commit trailers (CONTRACT §5), newest first. Commits that touched a pin file without Slipway
 * trailers (hand edits) are not promotions and are not listed.
 */
export const history: Handler = async ({ args, options }, ctx) => {
  const ws = await openWorkspace(ctx);
  const service = imageService(ws, String(args['service']));
  const environment = options['env'] === undefined ? undefined : requireEnvironment(ws, options['env'], '--env');

  const repo = await openPinsRepo({ root: ws.root, spec: ws.config.pins.repo, env: ws.env, write: false, log: (m) => ctx.out.info(m) });
  let promotions: PromotionRecord[];
  try {
    await repo.refresh();
    const state = await readPinState(repo, ws, service, 'promotions');
    promotions = environment === undefined ? state.history : state.history.filter((r) => r.environment === environment);
  } finally {
    await repo.close();
  }

  const data = { service: service.name, environment: environment ?? null, promotions };
  for (const r of promotions.filter((p) => p.pinned !== p.digest)) {
    ctx.out.warn(
      `commit ${r.commit.slice(0, 12)} claims ${shortDigest(r.digest)} in ${r.environment}, but its pin file ${r.pinned === null ? 'was not changed by it' : `holds ${shortDigest(r.pinned)}`}; the gates go by the file`,
    );
  }
  if (promotions.length === 0) {
    return { data, human: `no promotions of ${service.name}${environment ? ` in ${environment}` : ''} in the pins repository (${ws.config.pins.repo})` };
  }
  const rows = promotions.map((r) => [
    r.date,
    r.environment,
    r.version ?? '-',
    shortDigest(r.digest),
    r.from,
    r.approvedBy.length > 0 ? r.approvedBy.join(', ') : '-',
    r.author,
    r.commit.slice(0, 12),
  ]);
  return { data, human: table(['when', 'environment', 'version', 'digest', 'from', 'approved by', 'by', 'commit'], rows) };
};
