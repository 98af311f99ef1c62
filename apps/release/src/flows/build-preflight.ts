import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
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
  const findings: Finding[] = [];
  const at = `services.${service.name}.build`;
  const build = service.build;
  if (service.kind !== 'image') return findings;
  if (!build) {
    if (options.building) {
      findings.push({ code: 'E_CHECK_BUILD_MISSING', message: `${at} is not set: slipway needs to know how to build (docker, layer) or locate (prebuilt) the image` });
    }
    return findings;
  }
  // Loaded for services that build, not at start: through its index the registry library is one
  // chunk of the bundle (the client, the builders, a child-process library), which a `check` or a
  // `release` of a service with no build never needs.
  const { BUILD_ENGINES, expandPrebuiltTemplate, parseImageRef, PrebuiltTemplateError } = await import('@slipway/registry');
  if (build.type === 'docker') {
    const engine = ws.env[BUILD_ENGINE_ENV];
    if (engine !== undefined && engine !== '' && !(BUILD_ENGINES as readonly string[]).includes(engine)) {
      findings.push({ code: 'E_CHECK_BUILD_ENGINE', message: `${BUILD_ENGINE_ENV}=${JSON.stringify(engine)} is not a build engine: use one of ${BUILD_ENGINES.join(', ')}, or unset it to detect one` });
    }
    if (options.worktree) {
      if (!(await isDirectory(join(ws.root, build.context)))) {
        findings.push({ code: 'E_CHECK_BUILD_CONTEXT_MISSING', message: `${at}.context: folder ${build.context} does not exist` });
      }
      const dockerfile = build.dockerfile ?? `${build.context.replace(/\/+$/, '')}/Dockerfile`;
      if (!(await isFile(join(ws.root, dockerfile)))) {
        findings.push({
          code: 'E_CHECK_DOCKERFILE_MISSING',
          message: `${at}: no Dockerfile at ${dockerfile}${build.dockerfile === undefined ? ' (set build.dockerfile if it lives elsewhere)' : ''}`,
        });
      }
    } else if (options.building) {
      findings.push({ code: 'E_CHECK_DOCKER_NOT_CHECKED_OUT', message: `${at}: docker builds use the work tree, which is not at ${options.commit.slice(0, 7)}: check out that commit first` });
    }
  } else if (build.type === 'layer') {
    if (build.from !== 'scratch') {
      let problem: string | undefined;
      try {
        const ref = parseImageRef(build.from);
        if (ref.tag === undefined && ref.digest === undefined) problem = 'needs a tag or digest';
      } catch (error) {
        problem = `is not an image reference: ${error instanceof Error ? error.message : String(error)}`;
      }
      if (problem !== undefined) findings.push({ code: 'E_CHECK_LAYER_FROM', message: `${at}.from: "${build.from}" ${problem}` });
    }
    if (options.worktree) {
      const entries = await readdir(join(ws.root, build.dir)).catch(() => undefined);
      if (entries === undefined) findings.push({ code: 'E_CHECK_LAYER_DIR_MISSING', message: `${at}.dir: folder ${build.dir} does not exist (build it first?)` });
      else if (entries.length === 0) findings.push({ code: 'E_CHECK_LAYER_DIR_EMPTY', message: `${at}.dir: folder ${build.dir} is empty (build it first?)` });
    }
  } else {
    try {
      expandPrebuiltTemplate({ template: build.from, image: service.image, commit: options.commit, version: options.version ?? '0.0.0' });
    } catch (error) {
      if (!(error instanceof PrebuiltTemplateError)) throw error;
      findings.push({ code: 'E_CHECK_PREBUILT_TEMPLATE', message: `${at}.from: ${error.message}` });
    }
  }
  return findings;
}

/**
 * What the layer base itself says about the build, when it can be read: every platform in
 * `build.platforms` must be one the base offers. Only asked when platforms are listed (the
 * default is whatever the base offers) and the offline findings leave the base reference valid.
 * A base that cannot be read now (network, credentials, absent) is no finding: the build reads it
 * again, before any push, and fails there with the registry's own error.
 */
export async function baseFindings(ws: Workspace, service: ResolvedService): Promise<Finding[]> {
  const build = service.build;
  if (service.kind !== 'image' || build?.type !== 'layer' || build.from === 'scratch' || build.platforms === undefined) return [];
  let from;
  // The publish path loads here, for the services whose base is read.
  const [{ layerBase }, { BuildError, layerPlatforms, parseImageRef, parsePlatform }] = await Promise.all([import('../artifact.js'), import('@slipway/registry')]);
  try {
    const ref = parseImageRef(build.from);
    if (ref.tag === undefined && ref.digest === undefined) return [];
    from = await layerBase(ws, service.name, build);
  } catch {
    return []; // E_CHECK_LAYER_FROM already says what is wrong with it
  }
  try {
    await layerPlatforms({ from, platforms: build.platforms.map(parsePlatform) });
    return [];
  } catch (error) {
    if (error instanceof BuildError && error.code === 'E_BUILD_INPUT') {
      return [{ code: 'E_CHECK_LAYER_PLATFORM', message: `services.${service.name}.build.platforms: ${error.message}` }];
    }
    return [];
  }
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

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() === true;
}
