import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ResolvedService } from '@slipway/config';
import {
  MediaTypes,
  buildLayerImage,
  copyImage,
  dockerBuild,
  formatImageRef,
  locatePrebuilt,
  pushImage,
  type LayerBuildOptions,
  type Registry,
} from '@slipway/registry';
import type { ImageTagSet } from '@slipway/tag';
import { crashPoint } from './crash-point.js';
import { PolicyError, UsageError, VerificationError } from './errors.js';
import type { Workspace } from './workspace.js';

export const REVISION_LABEL = 'org.opencontainers.image.revision';

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

/** The commit an image says it was built from (its OCI revision label), if it says. */
export async function imageRevision(registry: Registry, repository: string, digest: string): Promise<string | undefined> {
  let manifest = JSON.parse(Buffer.from((await registry.getManifest(repository, digest)).bytes).toString('utf8')) as {
    mediaType?: string;
    manifests?: { digest: string }[];
    config?: { digest: string };
  };
  const child = manifest.manifests?.[0];
  if (child) manifest = JSON.parse(Buffer.from((await registry.getManifest(repository, child.digest)).bytes).toString('utf8'));
  if (!manifest.config) return undefined;
  const config = JSON.parse(Buffer.from(await registry.getBlob(repository, manifest.config.digest)).toString('utf8')) as {
    config?: { Labels?: Record<string, string> };
  };
  return config.config?.Labels?.[REVISION_LABEL];
}

/**
 * Builds (docker, layer) or locates (prebuilt) the service's image for `commit`, pushes it under
 * the tag set in the service's own repository, then proves every tag resolves to the digest.
 * Idempotent: when the first immutable tag already holds an image built from this commit, that
 * image is reused; from another commit, it is refused (tags are immutable).
 */
export async function publishArtifact(ws: Workspace, request: ArtifactRequest): Promise<ArtifactResult> {
  const { service, commit, tagSet, log } = request;
  const { registry, ref } = ws.registry(service.image);
  const repository = ref.repository;
  const primary = tagSet.immutable[0] ?? tagSet.tags[0];
  if (primary === undefined) throw new UsageError(`no image tags to publish for ${service.name}`);
  const image = service.image;

  let digest: string | undefined;
  let action: ArtifactResult['action'] = 'pushed';
  let bytesPushed = 0;
  const existing = await registry.resolve(repository, primary);
  if (existing) {
    // A prebuilt image is identified by the digest CI built for this commit; others by their revision label.
    const revision =
      service.build?.type === 'prebuilt'
        ? (await locatePrebuilt({ template: service.build.from, image, commit, ...(request.version ? { version: request.version } : {}), registry })).digest === existing.digest
          ? commit
          : undefined
        : await imageRevision(registry, repository, existing.digest);
    if (revision !== commit) {
      throw new PolicyError(
        'E_IMMUTABLE_TAG',
        `${image}:${primary} already exists as ${existing.digest}, built from ${revision ?? 'an unknown commit'}, not ${commit}. Tags are immutable: release a new version instead.`,
      );
    }
    log(`${image}:${primary} already holds ${existing.digest} from ${commit.slice(0, 7)}; reusing it`);
    digest = existing.digest;
    action = 'unchanged';
  }

  if (digest === undefined) {
    const build = service.build;
    if (!build) {
      throw new UsageError(`services.${service.name}.build is not set: slipway needs to know how to build (docker, layer) or locate (prebuilt) the image`);
    }
    if (build.type === 'layer') {
      const dest = await mkdtemp(join(tmpdir(), 'slipway-build-'));
      try {
        // Files as committed, straight from git's objects: no checkout setting or attribute changes the digest.
        const tree = await ws.git().committedTree({ commit, path: build.dir });
        let from: LayerBuildOptions['from'] = 'scratch';
        if (build.from !== 'scratch') {
          const base = ws.registry(build.from);
          const reference = base.ref.digest ?? base.ref.tag;
          if (reference === undefined) throw new UsageError(`services.${service.name}.build.from: "${build.from}" needs a tag or digest`);
          from = { registry: base.registry, repository: base.ref.repository, reference, name: build.from };
        }
        log(`building ${service.name} from ${build.dir} at ${commit.slice(0, 7)} (layer)`);
        const built = await buildLayerImage({
          from,
          tree,
          spoolDir: dest,
          entrypoint: build.entrypoint ?? [],
          ...(build.prefix === undefined ? {} : { prefix: build.prefix }),
          ...(ws.config.repository ? { source: `https://github.com/${ws.config.repository}` } : {}),
          revision: commit,
          ...(request.version ? { version: request.version } : {}),
          sourceDateEpoch: await ws.git().commitTime(commit),
        });
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
      } finally {
        await rm(dest, { recursive: true, force: true });
      }
    } else if (build.type === 'prebuilt') {
      const located = await locatePrebuilt({ template: build.from, image, commit, ...(request.version ? { version: request.version } : {}), registry });
      log(`located ${located.ref} → ${located.digest} (prebuilt for ${commit.slice(0, 7)})`);
      digest = located.digest;
      if (request.dryRun) action = 'planned';
      else {
        const source = ws.registry(formatImageRef({ registry: located.image.registry, repository: located.image.repository }));
        await copyImage({
          from: { registry: source.registry, repository: located.image.repository, reference: located.digest },
          to: { registry, repository, tags: tagSet.immutable },
          immutable: true,
        });
      }
    } else {
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
        labels: { [REVISION_LABEL]: commit, ...(request.version ? { 'org.opencontainers.image.version': request.version } : {}) },
      });
      digest = result.digest;
    }
  }

  if (action !== 'planned') {
    await moveFloatingTags(registry, repository, digest, tagSet.floating);
    await verifyTags(registry, repository, image, digest, tagSet.tags);
    log(`verified: ${tagSet.tags.map((t) => `${image}:${t}`).join(', ')} → ${digest}`);
  }
  return { service: service.name, image, digest, tags: [...tagSet.tags], action, bytesPushed };
}

/** Floating tags (latest, X.Y, branch names) follow the newest artifact; @slipway/tag decided they may move. */
async function moveFloatingTags(registry: Registry, repository: string, digest: string, tags: readonly string[]): Promise<void> {
  if (tags.length === 0) return;
  const manifest = await registry.getManifest(repository, digest);
  for (const tag of tags) {
    const current = await registry.resolve(repository, tag);
    if (current?.digest === digest) continue;
    await registry.putManifest(repository, tag, { mediaType: manifest.mediaType || MediaTypes.ociManifest, bytes: manifest.bytes });
  }
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
