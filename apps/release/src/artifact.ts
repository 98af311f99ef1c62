import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { durationMs, type ResolvedService } from '@slipway/config';
import {
  BUILD_ENGINES,
  BuildError,
  buildLayerImages,
  copiedDigest,
  copyImage,
  defaultCredentials,
  DEFAULT_BUILD_TIMEOUT_MS,
  detectBuildEngine,
  dockerBuild,
  formatDuration,
  type BuildEngine,
  type DockerBuildResult,
  formatImageRef,
  locatePrebuilt,
  OCI_LABELS,
  ociCreated,
  formatPlatform,
  OCI_LAYOUT_PREFIX,
  parsePlatform,
  pushImage,
  type BlobProgress,
  type BuiltLayerImages,
  type ImageRef,
  type LayerBuildOptions,
  type Registry,
} from '@slipway/registry';
import type { ImageTagSet } from '@slipway/tag';
import { crashPoint } from './crash-point.js';
import { BUILD_ENGINE_ENV } from './flows/build-preflight.js';
import { moveFloatingTags } from './flows/floating-tags.js';
import { PolicyError, UsageError, VerificationError } from './errors.js';
import { formatBytes, formatSeconds, type TransferProgress } from './progress.js';
import type { Workspace } from './workspace.js';

export const REVISION_LABEL = OCI_LABELS.revision;
const VERSION_LABEL = OCI_LABELS.version;

/** `{ [key]: <source URL> }` for this workspace's images (its GitHub repository), or nothing when services.json names none. */
const sourceLabel = (ws: Workspace, key: string): Record<string, string> => (ws.config.repository ? { [key]: `https://github.com/${ws.config.repository}` } : {});

export interface ArtifactResult {
  service: string;
  /** Image repository reference, without tag: `ghcr.io/acme/api`. */
  image: string;
  digest: string;
  tags: string[];
  /** What happened: built and pushed now, found already published for this commit, or planned (dry run). */
  action: 'pushed' | 'unchanged' | 'planned';
  bytesPushed: number;
}

export interface ArtifactRequest {
  service: ResolvedService;
  commit: string;
  version: string | null;
  tagSet: ImageTagSet;
  dryRun: boolean;
  log: (message: string) => void;
  /** A progress display for a push or copy (Output.progress); none: only `log` lines. */
  progress?: (label: string) => TransferProgress;
}

/** The labels of an image (the first child's, for an index). */
export async function imageLabels(registry: Registry, repository: string, digest: string): Promise<Record<string, string>> {
  let manifest = JSON.parse(Buffer.from((await registry.getManifest(repository, digest)).bytes).toString('utf8')) as {
    mediaType?: string;
    manifests?: { digest: string }[];
    config?: { digest: string; size?: number };
  };
  const child = manifest.manifests?.[0];
  if (child) manifest = JSON.parse(Buffer.from((await registry.getManifest(repository, child.digest)).bytes).toString('utf8'));
  if (!manifest.config) return {};
  const config = JSON.parse(Buffer.from(await registry.getBlob(repository, manifest.config.digest, { size: manifest.config.size })).toString('utf8')) as {
    config?: { Labels?: Record<string, string> };
  };
  return config.config?.Labels ?? {};
}

/** The commit an image says it was built from (its OCI revision label), if it says. */
export async function imageRevision(registry: Registry, repository: string, digest: string): Promise<string | undefined> {
  return (await imageLabels(registry, repository, digest))[REVISION_LABEL];
}

type LayerBuild = Extract<NonNullable<ResolvedService['build']>, { type: 'layer' }>;

/**
 * What an image built on `ref` records as org.opencontainers.image.base.name: a reference anyone
 * can pull (`docker.io/library/node:20`, never the short `node:20`; the tag when both tag and
 * digest are given, since base.digest holds the digest). None for a base in an OCI layout: its
 * path is this machine's, and would make the digest depend on where the workspace is checked out.
 */
export function pullableBaseName(ref: ImageRef): string | undefined {
  if (ref.registry.startsWith(OCI_LAYOUT_PREFIX)) return undefined;
  return formatImageRef(ref.tag !== undefined ? { registry: ref.registry, repository: ref.repository, tag: ref.tag } : ref);
}

/** The base of a layer build as the builder reads it; exit 2 when it names no tag or digest. */
export async function layerBase(ws: Workspace, name: string, build: LayerBuild): Promise<LayerBuildOptions['from']> {
  if (build.from === 'scratch') return 'scratch';
  const base = await ws.registry(build.from);
  const reference = base.ref.digest ?? base.ref.tag;
  if (reference === undefined) throw new UsageError(`services.${name}.build.from: "${build.from}" needs a tag or digest`);
  const baseName = pullableBaseName(base.ref);
  return { registry: base.registry, repository: base.ref.repository, reference, ...(baseName === undefined ? {} : { name: baseName }) };
}

/**
 * The layer image of `commit`: the folder's files as committed, read from git's objects (no
 * checkout setting or attribute changes a byte), appended to the base, for each platform of
 * `build.platforms` (default: every platform the base offers). The compressed layer is written
 * once into `spoolDir`, which must outlive the push.
 */
async function buildLayer(
  ws: Workspace,
  name: string,
  build: LayerBuild,
  commit: string,
  version: string | null,
  log: (message: string) => void,
  spoolDir: string,
): Promise<BuiltLayerImages> {
  const from = await layerBase(ws, name, build);
  const tree = await ws.git().committedTree({ commit, path: build.dir });
  log(`building ${name} from ${build.dir} at ${commit.slice(0, 7)} (layer)`);
  const built = await buildLayerImages({
    from,
    tree,
    spoolDir,
    ...(build.platforms === undefined ? {} : { platforms: build.platforms.map(parsePlatform) }),
    ...(build.entrypoint === undefined ? {} : { entrypoint: build.entrypoint }),
    ...(build.cmd === undefined ? {} : { cmd: build.cmd }),
    ...(build.env === undefined ? {} : { env: build.env }),
    ...(build.workingDir === undefined ? {} : { workingDir: build.workingDir }),
    ...(build.user === undefined ? {} : { user: build.user }),
    ...(build.labels === undefined ? {} : { labels: build.labels }),
    ...(build.exposedPorts === undefined ? {} : { exposedPorts: build.exposedPorts }),
    ...(build.prefix === undefined ? {} : { prefix: build.prefix }),
    title: name,
    ...sourceLabel(ws, 'source'),
    revision: commit,
    ...(version ? { version } : {}),
    sourceDateEpoch: await ws.git().commitTime(commit),
  }).catch((error: unknown) => {
    // The builder's bad input is services.json's (a platform the base lacks, a base that is no image).
    if (error instanceof BuildError && error.code === 'E_BUILD_INPUT') throw new BuildError('layer', 'E_BUILD_INPUT', `services.${name}.build: ${error.message}`, { cause: error });
    throw error;
  });
  if (built.images.length > 1) log(`  ${built.images.length} platforms: ${built.images.map((i) => formatPlatform(i.platform)).join(', ')} (one layer, one index)`);
  return built;
}

/**
 * Builds (docker, layer) or locates (prebuilt) the service's image for `commit`, pushes it under
 * the tag set in the service's own repository, then proves every tag resolves to the digest.
 * Idempotent: when the first immutable tag already holds an image built from this commit, that
 * image is reused; from another commit, it is refused (tags are immutable).
 */
export async function publishArtifact(ws: Workspace, request: ArtifactRequest): Promise<ArtifactResult> {
  if (request.service.build?.type !== 'layer') return publishWith(ws, request, undefined);
  // A layer is written to a file and pushed from it, in constant memory whatever its size.
  const spoolDir = await mkdtemp(join(tmpdir(), 'slipway-build-'));
  try {
    return await publishWith(ws, request, spoolDir);
  } finally {
    await rm(spoolDir, { recursive: true, force: true });
  }
}

async function publishWith(ws: Workspace, request: ArtifactRequest, spoolDir: string | undefined): Promise<ArtifactResult> {
  const { service, commit, tagSet, log } = request;
  const { registry, ref } = await ws.registry(service.image);
  const repository = ref.repository;
  const primary = tagSet.immutable[0] ?? tagSet.tags[0];
  if (primary === undefined) throw new UsageError(`no image tags to publish for ${service.name}`);
  const image = service.image;

  let digest: string | undefined;
  let action: ArtifactResult['action'] = 'pushed';
  let bytesPushed = 0;
  const build = service.build;
  // A layer build is reproducible: build it first, so an existing tag is judged by what this
  // commit gives, never by a label anyone who can push could have written.
  const built = build?.type === 'layer' && spoolDir !== undefined ? await buildLayer(ws, service.name, build, commit, request.version, log, spoolDir) : undefined;
  const existing = await registry.resolve(repository, primary);
  if (existing) {
    if (built) {
      if (built.manifest.digest !== existing.digest) {
        throw new PolicyError(
          'E_IMMUTABLE_TAG',
          `${image}:${primary} already exists as ${existing.digest}, but building ${commit.slice(0, 7)} gives ${built.manifest.digest}: that image was not built from this commit by slipway (whatever its labels say). Tags are immutable: release a new version instead.`,
        );
      }
    } else {
      // A prebuilt image is identified by the digest CI built for this commit; a docker build (not
      // reproducible) only by its labels: see docs/guarantees.md for what that does not prove.
      let revision: string | undefined;
      let labelledVersion: string | undefined;
      if (build?.type === 'prebuilt') {
        const located = await locatePrebuilt({ template: build.from, image, commit, ...(request.version ? { version: request.version } : {}), registry });
        // An OCI layout holds a Docker schema 2 prebuilt converted to OCI: compare with that digest.
        const expected = await copiedDigest({ registry, repository: located.image.repository, reference: located.digest }, registry);
        revision = expected === existing.digest ? commit : undefined;
      } else {
        const labels = await imageLabels(registry, repository, existing.digest);
        revision = labels[REVISION_LABEL];
        labelledVersion = labels[VERSION_LABEL];
      }
      if (revision !== commit) {
        throw new PolicyError(
          'E_IMMUTABLE_TAG',
          `${image}:${primary} already exists as ${existing.digest}, built from ${revision ?? 'an unknown commit'}, not ${commit}. Tags are immutable: release a new version instead.`,
        );
      }
      // Slipway's docker build labels the version too: another one there was not built for this release.
      if (request.version && labelledVersion !== undefined && labelledVersion !== request.version) {
        throw new PolicyError(
          'E_IMMUTABLE_TAG',
          `${image}:${primary} already exists as ${existing.digest}, labelled version ${labelledVersion}, not ${request.version}. Tags are immutable: release a new version instead.`,
        );
      }
    }
    log(`${image}:${primary} already holds ${existing.digest} from ${commit.slice(0, 7)}; reusing it`);
    digest = existing.digest;
    action = 'unchanged';
  }

  if (digest === undefined) {
    if (!build) {
      throw new UsageError(`services.${service.name}.build is not set: slipway needs to know how to build (docker, layer) or locate (prebuilt) the image`);
    }
    if (built) {
      digest = built.manifest.digest;
      if (request.dryRun) {
        action = 'planned';
      } else {
        log(`pushing ${image}@${digest}`);
        const progress = request.progress?.(`pushing ${service.name}`);
        const pushed = await transfer(progress, () =>
          pushImage({ registry, repository, image: built, tags: tagSet.immutable, ...(progress ? { onBlobProgress: (p) => progress.update(p) } : {}) }),
        );
        const pushedDigest = digest;
        progress?.done(({ ms }) => `pushed ${service.name}@${pushedDigest} (${formatBytes(pushed.pushed.bytes)} in ${formatSeconds(ms)})`);
        bytesPushed = pushed.pushed.bytes;
        crashPoint(ws.env, `push:${service.name}`);
      }
    } else if (build.type === 'prebuilt') {
      const located = await locatePrebuilt({ template: build.from, image, commit, ...(request.version ? { version: request.version } : {}), registry });
      log(`located ${located.ref} → ${located.digest} (prebuilt for ${commit.slice(0, 7)})`);
      const source = await ws.registry(formatImageRef({ registry: located.image.registry, repository: located.image.repository }));
      const from = { registry: source.registry, repository: located.image.repository, reference: located.digest };
      if (request.dryRun) {
        action = 'planned';
        digest = await copiedDigest(from, registry);
      } else {
        const progress = request.progress?.(`copying ${service.name}`);
        const copied = await transfer(progress, () =>
          copyImage({
            from,
            to: { registry, repository, tags: tagSet.immutable },
            immutable: true,
            ...(progress ? { onProgress: (p: BlobProgress) => progress.update(p) } : {}),
          }),
        );
        // A store that holds only OCI media types (an OCI layout) gets a Docker schema 2 image
        // converted, under another digest: that one is what the tags name and the manifest records.
        digest = copied.converted[repository] ?? copied.digest;
        const copiedDigestHere = digest;
        progress?.done(({ ms }) => `copied ${service.name}@${copiedDigestHere} (${formatBytes(copied.blobs.uploadedBytes)} in ${formatSeconds(ms)})`);
      }
      if (digest !== located.digest) log(`converted to OCI media types for ${image} (an OCI layout holds no others): ${digest}`);
    } else if (build.type === 'docker') {
      const head = await ws.git().resolveCommit('HEAD');
      if (head !== commit) {
        throw new UsageError(`docker builds use the working tree, which is at ${head.slice(0, 7)}, not ${commit.slice(0, 7)}: check out the tag first`);
      }
      if (request.dryRun) {
        throw new UsageError('--dry-run cannot compute the digest of a docker build without building; run without --dry-run in CI');
      }
      const sourceDateEpoch = await ws.git().commitTime(commit);
      // The same provenance a layer build records, as labels and manifest annotations.
      const provenance: Record<string, string> = {
        [OCI_LABELS.created]: ociCreated(sourceDateEpoch),
        [OCI_LABELS.revision]: commit,
        [OCI_LABELS.title]: service.name,
        ...sourceLabel(ws, OCI_LABELS.source),
        ...(request.version ? { [OCI_LABELS.version]: request.version } : {}),
      };
      const result = await buildWithEngine(ws, service.name, build, {
        image: `${ref.registry}/${repository}`,
        tags: tagSet.immutable,
        labels: provenance,
        annotations: provenance,
        sourceDateEpoch,
        log,
      });
      digest = result.digest;
    }
  }
  // Every build type above sets it; this only satisfies the type checker.
  if (digest === undefined) throw new UsageError(`services.${service.name}.build: no image was built or located`);

  let tags = [...tagSet.tags];
  if (action !== 'planned') {
    const floating = await moveFloatingTags({ registry, repository, image, digest, version: request.version, floating: tagSet.floating });
    // A floating tag a newer version took while this run was under way stays with it.
    tags = [...tagSet.immutable, ...floating];
    await verifyTags(registry, repository, image, digest, tags);
    log(`verified: ${tags.map((t) => `${image}:${t}`).join(', ')} → ${digest}`);
  }
  return { service: service.name, image, digest, tags, action, bytesPushed };
}

/** The deploy is only ever dispatched against a digest that provably resolves: HEAD every tag. */
export async function verifyTags(registry: Registry, repository: string, image: string, digest: string, tags: readonly string[]): Promise<void> {
  for (const tag of tags) {
    const resolved = await registry.resolve(repository, tag);
    if (resolved?.digest !== digest) {
      throw new VerificationError(
        'E_VERIFY_DIGEST',
        `${image}:${tag} resolves to ${resolved?.digest ?? 'nothing'}, expected ${digest}. Re-run publish; if it persists, check the registry.`,
      );
    }
  }
}

type DockerBuildConfig = Extract<NonNullable<ResolvedService['build']>, { type: 'docker' }>;

/** The engine setting in force: SLIPWAY_BUILD_ENGINE, else services.json's build.engine; undefined = detect. */
export function chosenEngine(env: Record<string, string | undefined>, name: string, build: DockerBuildConfig): { engine: BuildEngine; from: string } | undefined {
  const fromEnv = env[BUILD_ENGINE_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!(BUILD_ENGINES as readonly string[]).includes(fromEnv)) {
      throw new UsageError(`${BUILD_ENGINE_ENV}=${JSON.stringify(fromEnv)} is not a build engine: use one of ${BUILD_ENGINES.join(', ')}, or unset it to detect one`);
    }
    return { engine: fromEnv as BuildEngine, from: BUILD_ENGINE_ENV };
  }
  return build.engine === undefined ? undefined : { engine: build.engine, from: `services.${name}.build.engine` };
}

/**
 * A docker build with the engine chosen (or detected) for this machine, under the build's deadline,
 * with the registry settings and credentials the registry client uses.
 */
async function buildWithEngine(
  ws: Workspace,
  name: string,
  build: DockerBuildConfig,
  target: {
    image: string;
    tags: readonly string[];
    labels: Record<string, string>;
    annotations: Record<string, string>;
    sourceDateEpoch: number;
    log: (message: string) => void;
  },
): Promise<DockerBuildResult> {
  const env = ws.env as Record<string, string | undefined>;
  const timeoutMs = build.timeout === undefined ? DEFAULT_BUILD_TIMEOUT_MS : durationMs(build.timeout);
  const howToPick = `pick one with "engine": "docker" | "podman" | "buildah" in services.${name}.build, or ${BUILD_ENGINE_ENV} on this machine`;
  let chosen = chosenEngine(env, name, build);
  try {
    if (chosen === undefined) {
      const detected = await detectBuildEngine({ env });
      chosen = { engine: detected.engine, from: `detected; tried ${detected.tried.join(', ')}` };
    }
    target.log(`building ${name} with ${chosen.engine === 'docker' ? 'docker buildx' : chosen.engine} (${chosen.from}), context ${build.context}, deadline ${formatDuration(timeoutMs)}`);
    return await dockerBuild({
      engine: chosen.engine,
      context: resolve(ws.root, build.context),
      ...(build.dockerfile ? { dockerfile: resolve(ws.root, build.dockerfile) } : {}),
      image: target.image,
      tags: target.tags,
      ...(build.platforms ? { platforms: build.platforms } : {}),
      labels: target.labels,
      annotations: target.annotations,
      sourceDateEpoch: target.sourceDateEpoch,
      timeoutMs,
      env,
      insecureHosts: ws.config.insecureRegistries,
      credentials: defaultCredentials({ env }),
    });
  } catch (error) {
    if (error instanceof BuildError && error.code === 'E_BUILD_TOOL_MISSING') {
      throw new BuildError('docker', error.code, `${error.message}; ${howToPick}`, { cause: error });
    }
    if (error instanceof BuildError && error.code === 'E_BUILD_TIMEOUT') {
      throw new BuildError('docker', error.code, `${error.message}\nset "timeout" in services.${name}.build (now ${formatDuration(timeoutMs)}) if the build needs longer, e.g. "timeout": "90m"`, { cause: error });
    }
    throw error;
  }
}

/** `run`, with `progress`'s live line cleared if it fails. */
async function transfer<T>(progress: TransferProgress | undefined, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    progress?.stop();
    throw error;
  }
}
