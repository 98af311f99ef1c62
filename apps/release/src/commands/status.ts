import type { Pinned } from '@slipway/pins';
import { isNotFound } from '@slipway/registry';
import type { Handler } from '../context.js';
import { table } from '../output.js';
import { openPinsRepo } from '../adapters/pins-repo.js';
import { imageService, readPinState, releaseTagInfo, shortDigest, tryClassify } from '../promotion.js';
import { openWorkspace, type Workspace } from '../workspace.js';

/**
 * Whether the registry still agrees with the pin: `none` — the image tag resolves to the pinned
 * digest; `moved` — it resolves to another digest; `missing` — the tag is gone; `unknown` — the
 * registry could not be asked (a warning says why); null — nothing pinned, or no tag to compare
 * (a pin made by digest alone).
 */
export type Drift = 'none' | 'moved' | 'missing' | 'unknown' | null;

export interface StatusRow {
  service: string;
  environment: string;
  path: string;
  pinned: boolean;
  image: string | null;
  digest: string | null;
  version: string | null;
  tag: string | null;
  promotedAt: string | null;
  promotedBy: string | null;
  from: string | null;
  /** The image tag compared with the registry. */
  imageTag: string | null;
  drift: Drift;
  /** Where `imageTag` points now, when the registry answered. */
  registryDigest: string | null;
}

/** The image tag a pin's version was published under: the file's own, else its release tag's. */
function imageTagOf(ws: Workspace, pinned: Pinned, service: ReturnType<typeof imageService>): string | undefined {
  if (pinned.imageTag) return pinned.imageTag;
  if (pinned.tag) return tryClassify(ws, pinned.tag)?.name;
  if (!pinned.version) return undefined;
  try {
    return releaseTagInfo(ws, service, pinned.version).name;
  } catch {
    return undefined;
  }
}

/**
 * `slipway status [service…]`: per service and environment, what the pins repository pins (origin's
 * branch, fetched now; the checkout itself when it has no origin) —
 * version, digest, when, by whom — and whether the registry's tag for that version still resolves
 * to the pinned digest. An unreachable registry makes drift `unknown` with a warning; the table is
 * still printed and the exit code stays 0 (drift is reported, not an error).
 */
export const status: Handler = async ({ args }, ctx) => {
  const ws = await openWorkspace(ctx);
  const requested = Array.isArray(args['service']) ? args['service'] : [];
  const services = (requested.length > 0 ? requested : ws.serviceNames().filter((n) => ws.service(n).kind === 'image')).map((n) => imageService(ws, n));

  const repo = await openPinsRepo({ root: ws.root, spec: ws.config.pins.repo, env: ws.env, write: false, log: (m) => ctx.out.info(m) });
  const states = [];
  try {
    await repo.refresh();
    for (const service of services) states.push(await readPinState(repo, ws, service, 'none'));
  } finally {
    await repo.close();
  }

  const warnings: string[] = [];
  const resolved = new Map<string, Promise<{ digest: string | null; error?: string }>>();
  const resolveTag = (image: string, tag: string) => {
    const key = `${image}:${tag}`;
    let answer = resolved.get(key);
    if (!answer) {
      answer = (async () => {
        try {
          const { registry, ref } = await ws.registry(image);
          return { digest: (await registry.resolve(ref.repository, tag))?.digest ?? null };
        } catch (error) {
          if (isNotFound(error)) return { digest: null };
          return { digest: null, error: (error as Error).message };
        }
      })();
      resolved.set(key, answer);
    }
    return answer;
  };

  const rows: StatusRow[] = [];
  for (const state of states) {
    for (const environment of state.environments) {
      const pinned = state.current[environment];
      const last = state.history.find((r) => r.environment === environment);
      const row: StatusRow = {
        service: state.service.name,
        environment,
        path: state.paths[environment] ?? '',
        pinned: pinned !== undefined,
        image: pinned ? (pinned.image ?? state.service.image) : null,
        digest: pinned?.digest ?? null,
        version: pinned?.version ?? null,
        tag: pinned?.tag ?? null,
        // helm and kustomize files don't record when and by whom; the promotion commit does.
        promotedAt: pinned ? (pinned.promotedAt ?? (last?.digest === pinned.digest ? last.date : null)) : null,
        promotedBy: pinned ? (pinned.promotedBy ?? (last?.digest === pinned.digest ? last.author : null)) : null,
        from: pinned ? (pinned.from ?? (last?.digest === pinned.digest ? last.from : null)) : null,
        imageTag: null,
        drift: null,
        registryDigest: null,
      };
      const imageTag = pinned && row.image ? imageTagOf(ws, pinned, state.service) : undefined;
      if (pinned && row.image && imageTag) {
        row.imageTag = imageTag;
        const answer = await resolveTag(row.image, imageTag);
        if (answer.error !== undefined) {
          row.drift = 'unknown';
          const warning = `could not ask the registry about ${row.image}:${imageTag}: ${answer.error}`;
          if (!warnings.includes(warning)) {
            warnings.push(warning);
            ctx.out.warn(`${warning}; drift unknown`);
          }
        } else {
          row.registryDigest = answer.digest;
          row.drift = answer.digest === null ? 'missing' : answer.digest === pinned.digest ? 'none' : 'moved';
        }
      }
      rows.push(row);
    }
  }

  const driftText = (row: StatusRow): string => {
    switch (row.drift) {
      case 'none':
        return 'no';
      case 'moved':
        return `DRIFT: ${row.imageTag ?? ''} is now ${shortDigest(row.registryDigest ?? '')}`;
      case 'missing':
        return `DRIFT: ${row.imageTag ?? ''} no longer exists`;
      case 'unknown':
        return 'unknown';
      default:
        return '-';
    }
  };
  const human =
    rows.length === 0
      ? `no environments in services.json, so nothing is pinned`
      : table(
          ['service', 'environment', 'version', 'digest', 'when', 'by', 'drift'],
          rows.map((r) =>
            r.pinned
              ? [r.service, r.environment, r.version ?? '-', shortDigest(r.digest ?? ''), r.promotedAt ?? '-', r.promotedBy ?? '-', driftText(r)]
              : [r.service, r.environment, '-', '(not pinned)', '-', '-', '-'],
          ),
        );
  return { data: { pinsRepo: ws.config.pins.repo, environments: states[0]?.environments ?? [], pins: rows, warnings }, human };
};
