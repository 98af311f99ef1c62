// The build findings that need the registry library (image references, platforms, prebuilt
// templates, build engines). Through its index that library is one chunk of the bundle (the
// client, the builders, a child-process library), so build-preflight.ts loads this file only for
// services that build: `check` and `release` of the others start without it.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedService } from '@slipway/config';
import { BUILD_ENGINES, BuildError, expandPrebuiltTemplate, layerPlatforms, parseImageRef, parsePlatform, PrebuiltTemplateError } from '@slipway/registry';
import type { Workspace } from '../workspace.js';
import { BUILD_ENGINE_ENV, type BuildFindingsOptions, type Finding } from './build-preflight.js';

/** build-preflight.ts's `buildFindings`, for a service that builds (or lacks the build it needs). */
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
  const { layerBase } = await import('../artifact.js');
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

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() === true;
}
