import type { ResolvedService } from '@slipway/config';
import { BuildConfigError } from '../errors.js';
import type { Workspace } from '../workspace.js';

/** The environment variable that picks the docker build's engine on a machine, over services.json. */
export const BUILD_ENGINE_ENV = 'SLIPWAY_BUILD_ENGINE';

export interface Finding {
  /** Stable: `E_CHECK_DOCKERFILE_MISSING`, `E_CHECK_LAYER_FROM`, … */
  code: string;
  message: string;
}

export interface BuildFindingsOptions {
  /** The commit a build would read. */
  commit: string;
  /** The version a prebuilt template would expand with; `0.0.0` stands in when unknown. */
  version: string | null;
  /**
   * Whether the work tree holds `commit`, so folders can be looked at there: always for `check`
   * (it checks HEAD); for a command, only when the commit is checked out (CI's case).
   */
  worktree: boolean;
  /** The command builds now (a staging push): a service without `build`, or a docker build of a commit not checked out, is a finding too. */
  building?: boolean;
}

/**
 * Everything about a service's build configuration that can be known without the network: what
 * `check` / `release-check` report, and what every command that builds verifies before its first
 * side effect (a reservation, a push), so a typo never costs a staging number or half a release.
 */
export async function buildFindings(ws: Workspace, service: ResolvedService, options: BuildFindingsOptions): Promise<Finding[]> {
  // A service with no build has nothing to check unless it is being built (then its lack is the finding).
  if (service.kind !== 'image' || (service.build === undefined && options.building !== true)) return [];
  return (await import('./build-checks.js')).buildFindings(ws, service, options);
}

/**
 * What the layer base itself says about the build, when it can be read: every platform in
 * `build.platforms` must be one the base offers (see build-checks.ts).
 */
export async function baseFindings(ws: Workspace, service: ResolvedService): Promise<Finding[]> {
  const build = service.build;
  if (service.kind !== 'image' || build?.type !== 'layer' || build.from === 'scratch' || build.platforms === undefined) return [];
  return (await import('./build-checks.js')).baseFindings(ws, service);
}

/** Exit 2 naming every finding of every service, before the caller's first side effect. */
export async function assertBuildable(
  ws: Workspace,
  services: readonly ResolvedService[],
  options: { commit: string; version: string | null; building?: boolean },
): Promise<void> {
  // Only docker and layer builds look at the work tree: no git call for the others.
  const looks = services.some((s) => s.kind === 'image' && (s.build?.type === 'docker' || s.build?.type === 'layer'));
  const head = looks
    ? await ws
        .git()
        .resolveCommit('HEAD')
        .catch(() => undefined)
    : undefined;
  const worktree = head === options.commit;
  const findings: Finding[] = [];
  for (const service of services) findings.push(...(await buildFindings(ws, service, { ...options, worktree })));
  // Only when the configuration is otherwise sound: the base is read over the network.
  if (findings.length === 0) for (const service of services) findings.push(...(await baseFindings(ws, service)));
  if (findings.length > 0) {
    throw new BuildConfigError(findings);
  }
}
