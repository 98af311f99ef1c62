import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResolvedService } from '@slipway/config';
import { compareVersions, isPrerelease, parseVersion, type TagInfo } from '@slipway/tag';
import type { ArtifactResult } from './artifact.js';
import { crashPoint } from './crash-point.js';
import { PolicyError, UsageError, VerificationError } from './errors.js';
import { createNpmClient } from './npm-client.js';
import type { Workspace } from './workspace.js';

export interface NpmPublishRequest {
  service: ResolvedService;
  info: TagInfo;
  commit: string;
  dryRun: boolean;
  log: (message: string) => void;
}

/** `image` is `npm:<package name>`, `digest` the sha256 of the tarball, `tags` the dist-tag. */
export type NpmPublishResult = ArtifactResult & { package: string; distTag: string };

/** The package folder's package.json can't be published as is: bad input, exit 2. */
export class NpmPackageError extends Error {
  override readonly name = 'NpmPackageError';
  readonly code = 'E_NPM_PACKAGE';
  readonly exitCode = 2 as const;
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

/**
 * The dist-tag a version is published under. npm moves a dist-tag to whatever is published under
 * it, so only the newest stable version may take `latest`: an older stable one (a backport) takes
 * `latest-<major>` when it is the newest of its major, else `latest-<major>.<minor>` — never
 * moving `latest` backwards. Prereleases always take `next`. Published versions npm holds that are
 * not plain semver are ignored.
 */
export function npmDistTag(version: string, published: readonly string[]): string {
  if (isPrerelease(version)) return 'next';
  const parts = parseVersion(version);
  const stable = published.filter((v) => {
    try {
      return v !== version && !isPrerelease(v);
    } catch {
      return false;
    }
  });
  const newer = (filter: (p: ReturnType<typeof parseVersion>) => boolean) =>
    stable.some((v) => filter(parseVersion(v)) && compareVersions(v, version) > 0);
  if (!newer(() => true)) return 'latest';
  const major = parts.core[0];
  if (!newer((p) => p.core[0] === major)) return `latest-${major}`;
  return `latest-${major}.${parts.core[1]}`;
}

/**
 * Sets `version` (the tag is the source of truth) and `gitHead` (the commit, as npm records it
 * when publishing from a git checkout) in package.json text, keeping key order, indentation and
 * the final newline; every other byte stays. Pure: text in, text out.
 */
export function stampPackageJson(text: string, stamp: { version: string; gitHead: string }, path: string): { text: string; name: string; publishRegistry: string | undefined } {
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(text) as Record<string, unknown>;
  } catch (cause) {
    throw new NpmPackageError(`${path} is not valid JSON (${(cause as Error).message})`, path);
  }
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) throw new NpmPackageError(`${path} is not a JSON object`, path);
  const name = manifest['name'];
  if (typeof name !== 'string' || name.trim() === '') throw new NpmPackageError(`${path} has no "name": npm needs one to publish the package`, path);
  if (manifest['private'] === true) {
    throw new NpmPackageError(`${path} says "private": true, so npm refuses to publish ${name}; remove it, or do not release this folder as an npm service`, path);
  }
  const indent = /^[ \t]+(?=")/m.exec(text)?.[0] ?? '  ';
  manifest['version'] = stamp.version;
  manifest['gitHead'] = stamp.gitHead;
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  let out = JSON.stringify(manifest, null, indent);
  if (eol !== '\n') out = out.replaceAll('\n', eol);
  if (/\r?\n$/.test(text)) out += eol;
  const publishConfig = manifest['publishConfig'] as { registry?: unknown } | undefined;
  return { text: out, name, publishRegistry: typeof publishConfig?.registry === 'string' ? publishConfig.registry : undefined };
}

/**
 * Publishes a `kind: "npm"` service at the tag's commit: the package folder is exported from git
 * (never the working tree), its package.json stamped with the tag's version and the commit, packed
 * with `npm pack --ignore-scripts`, and published with `npm publish <tarball> --tag <dist-tag>`.
 *
 * Versions are immutable. The same release, re-run, is a no-op: the registry already holds a
 * tarball with the same sha1 (npm pack is reproducible: fixed mtimes, normalised modes), or one
 * whose gitHead is this commit (packed by another npm or zlib version from the same files).
 * Anything else under that version is refused (exit 3).
 */
export async function publishNpmPackage(ws: Workspace, request: NpmPublishRequest): Promise<NpmPublishResult> {
  const { service, info, commit, dryRun, log } = request;
  const version = info.version;
  if (version === null) throw new UsageError(`${info.tag} names no version, so there is nothing to publish to npm`);
  const root = service.root ?? (await ws.serviceRoots(service.name))[0];
  if (root === undefined) throw new UsageError(`services.${service.name}: no package folder (set "root" in services.json)`);
  const manifestPath = `${root.replace(/\/+$/, '')}/package.json`;

  const scratch = await mkdtemp(join(tmpdir(), 'slipway-npm-'));
  try {
    const dir = await ws.git().exportTree({ commit, path: root, dest: join(scratch, 'src') });
    const original = await readFile(join(dir, 'package.json'), 'utf8').catch(() => {
      throw new NpmPackageError(`${manifestPath} does not exist at ${commit.slice(0, 7)}: an npm service's folder needs a package.json`, manifestPath);
    });
    const stamped = stampPackageJson(original, { version, gitHead: commit }, manifestPath);
    await writeFile(join(dir, 'package.json'), stamped.text);
    const name = stamped.name;
    const npm = await createNpmClient({ env: ws.env, cwd: dir, scratch, packageName: name, publishRegistry: stamped.publishRegistry });

    log(`packing ${name}@${version} from ${root} at ${commit.slice(0, 7)}`);
    const packed = await npm.pack(join(scratch, 'packed'));
    const result = (action: ArtifactResult['action'], digest: string, distTag: string, tags: string[]): NpmPublishResult => ({
      service: service.name,
      image: `npm:${name}`,
      digest: `sha256:${digest}`,
      tags,
      action,
      bytesPushed: action === 'pushed' ? packed.bytes.length : 0,
      package: name,
      distTag,
    });

    const existing = await npm.packument(name);
    const distTag = npmDistTag(version, existing?.versions ?? []);
    // The version exists: the same release again is a no-op, anything else is refused.
    const unchanged = async (): Promise<NpmPublishResult> => {
      const found = await npm.version(name, version);
      const tags = Object.entries(found?.distTags ?? {})
        .filter(([, v]) => v === version)
        .map(([tag]) => tag);
      const reported = tags.includes(distTag) ? distTag : (tags[0] ?? distTag);
      if (found?.shasum === packed.sha1) {
        log(`${name}@${version} is already published with the same tarball (sha1 ${packed.sha1}); nothing to do`);
        return result('unchanged', packed.sha256, reported, tags);
      }
      if (found !== undefined && found.gitHead === commit) {
        // Same commit, bytes from another npm or zlib: the published tarball is the artifact.
        const downloaded = await npm.download(name, version, join(scratch, 'published'));
        log(`${name}@${version} is already published from ${commit.slice(0, 7)} (packed elsewhere); nothing to do`);
        return result('unchanged', downloaded.sha256, reported, tags);
      }
      throw new PolicyError(
        'E_IMMUTABLE_VERSION',
        `${name}@${version} is already published on ${npm.registry} with another tarball (shasum ${found?.shasum ?? 'unknown'}, gitHead ${found?.gitHead ?? 'none'}), not the one packed from ${commit} (shasum ${packed.sha1}). npm versions are immutable: release a new version instead.`,
      );
    };

    if (existing?.versions.includes(version)) return await unchanged();
    if (dryRun) {
      log(`would publish ${name}@${version} (sha256:${packed.sha256}) to ${npm.registry} with dist-tag ${distTag}`);
      return result('planned', packed.sha256, distTag, [distTag]);
    }

    log(`publishing ${name}@${version} to ${npm.registry} with dist-tag ${distTag}`);
    try {
      await npm.publish(packed.path, distTag);
      crashPoint(ws.env, `push:${service.name}`);
    } catch (error) {
      // Another run may have published it between our look and our publish: judge what is there.
      if (await npm.version(name, version)) return await unchanged();
      throw error;
    }

    // Like images: the release is only as good as what the registry provably serves.
    const published = await npm.version(name, version);
    if (published?.shasum !== packed.sha1 || published.distTags[distTag] !== version) {
      throw new VerificationError(
        'E_VERIFY_DIGEST',
        `${npm.registry} answers ${name}@${version} with ${published ? `shasum ${published.shasum}` : 'nothing'} and dist-tag ${distTag} → ${published?.distTags[distTag] ?? 'nothing'}, expected shasum ${packed.sha1} and ${version}. Re-run publish; if it persists, check the registry.`,
      );
    }
    log(`verified: ${name}@${version} shasum ${packed.sha1}, dist-tag ${distTag}`);
    return result('pushed', packed.sha256, distTag, [distTag]);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
