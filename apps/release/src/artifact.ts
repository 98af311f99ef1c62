import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ResolvedService } from '@slipway/config';
import {
  buildLayerImage,
  copyImage,
  dockerBuild,
  formatImageRef,
  locatePrebuilt,
  pushImage,
  type BuiltImage,
  type LayerBuildOptions,
  type Registry,
} from '@slipway/registry';
import type { ImageTagSet } from '@slipway/tag';
import { crashPoint } from './crash-point.js';
import { moveFloatingTags } from './flows/floating-tags.js';
import { PolicyError, UsageError, VerificationError } from './errors.js';
import type { Workspace } from './workspace.js';

export const REVISION_LABEL = 'org.opencontainers.image.revision';
const VERSION_LABEL = 'org.opencontainers.image.version';

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

/**
 * The layer image of `commit`: the folder's files as committed, read from git's objects (no
 * checkout setting or attribute changes a byte), appended to the base. The compressed layer is
 * written into `spoolDir`, which must outlive the push.
 */
async function buildLayer(
  ws: Workspace,
  name: string,
  build: Extract<NonNullable<ResolvedService['build']>, { type: 'layer' }>,
  commit: string,
  version: string | null,
  log: (message: string) => void,
  spoolDir: string,
): Promise<BuiltImage> {
  const tree = await ws.git().committedTree({ commit, path: build.dir });
  let from: LayerBuildOptions['from'] = 'scratch';
  if (build.from !== 'scratch') {
    const base = await ws.registry(build.from);
    const reference = base.ref.digest ?? base.ref.tag;
    if (reference === undefined) throw new UsageError(`services.${name}.build.from: "${build.from}" needs a tag or digest`);
    from = { registry: base.registry, repository: base.ref.repository, reference, name: build.from };
  }
  log(`building ${name} from ${build.dir} at ${commit.slice(0, 7)} (layer)`);
  return await buildLayerImage({
    from,
    tree,
    spoolDir,
    ...(build.entrypoint === undefined ? {} : { entrypoint: build.entrypoint }),
    ...(build.prefix === undefined ? {} : { prefix: build.prefix }),
    ...(ws.config.repository ? { source: `https://github.com/${ws.config.repository}` } : {}),
    revision: commit,
    ...(version ? { version } : {}),
    sourceDateEpoch: await ws.git().commitTime(commit),
  });
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
        revision = located.digest === existing.digest ? commit : undefined;
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
        const pushed = await pushImage({
          registry,
          repository,
          image: built,
          tags: tagSet.immutable,
          onProgress: (p) => {
            if (p.totalBytes > 4 * 1024 * 1024) log(`  ${Math.round((100 * p.pushedBytes) / p.totalBytes)}% of ${p.totalBytes} bytes`);
          },
        });
        bytesPushed = pushed.pushed.bytes;
        crashPoint(ws.env, `push:${service.name}`);
      }
    } else if (build.type === 'prebuilt') {
      const located = await locatePrebuilt({ template: build.from, image, commit, ...(request.version ? { version: request.version } : {}), registry });
      log(`located ${located.ref} → ${located.digest} (prebuilt for ${commit.slice(0, 7)})`);
      digest = located.digest;
      if (request.dryRun) action = 'planned';
      else {
        const source = await ws.registry(formatImageRef({ registry: located.image.registry, repository: located.image.repository }));
        await copyImage({
          from: { registry: source.registry, repository: located.image.repository, reference: located.digest },
          to: { registry, repository, tags: tagSet.immutable },
          immutable: true,
        });
      }
    } else if (build.type === 'docker') {
      const head = await ws.git().resolveCommit('HEAD');
      if (head !== commit) {
        throw new UsageError(`docker builds use the working tree, which is at ${head.slice(0, 7)}, not ${commit.slice(0, 7)}: check out the tag first`);
      }
      if (request.dryRun) {
        throw new UsageError('--dry-run cannot compute the digest of a docker build without building; run without --dry-run in CI');
      }
      log(`building ${service.name} with docker buildx (context ${build.context})`);
      const result = await dockerBuild({
        context: resolve(ws.root, build.context),
        ...(build.dockerfile ? { dockerfile: resolve(ws.root, build.dockerfile) } : {}),
        image: `${ref.registry}/${repository}`,
        tags: tagSet.immutable,
        ...(build.platforms ? { platforms: build.platforms } : {}),
        labels: { [REVISION_LABEL]: commit, ...(request.version ? { [VERSION_LABEL]: request.version } : {}) },
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
