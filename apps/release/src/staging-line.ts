// The staging line (seed 002, CONTRACT §2 scheme "staging-line"): a push to `staging` reserves
// X.Y.Z-staging.N once for the commit and builds every image under it; a push to main promotes the
// staging images to X.Y.Z and `latest` by digest, without rebuilding. The reservation is the git
// tag itself, created atomically (GitHub's POST /git/refs, or a push that must create the ref), so
// concurrent runs can never share an N; existing tags are only a hint where to start.

import type { ResolvedService } from '@slipway/config';
import { GitError, RefExistsError, RefNotFoundError } from '@slipway/git';
import { GitHubRefExistsError, type ReleaseHost } from '@slipway/github';
import { changelogPathFor, readVersionChangelog } from '@slipway/notes';
import {
  DeniedError,
  ImmutableTagError,
  NotFoundError,
  UnauthorizedError,
  copyImage,
  guardTag,
  type Registry,
} from '@slipway/registry';
import { classifyTag, imageTags, nextStagingVersion, stagingTag } from '@slipway/tag';
import { imageRevision, publishArtifact, verifyTags } from './artifact.js';
import { assertBuildable } from './flows/build-preflight.js';
import { moveFloatingTags } from './flows/floating-tags.js';
import { crashPoint } from './crash-point.js';
import { OperationalError, PolicyError, UsageError } from './errors.js';
import { table } from './output.js';
import type { Workspace } from './workspace.js';

/** Reservations give up after this many taken N in a row (each attempt is one atomic create). */
export const MAX_RESERVE_ATTEMPTS = 100;

export interface StagingImage {
  service: string;
  /** Image repository without tag, e.g. `ghcr.io/acme/api`. */
  image: string;
  digest: string;
  /** Every tag this run points at `digest`: the version first, then floating ones (`staging`, `latest`). */
  tags: string[];
  /** `pushed` — written now; `unchanged` — every tag already held this digest; `planned` — dry run. */
  action: 'pushed' | 'unchanged' | 'planned';
  /** Promote only: the staging tag whose image this is. */
  from?: string;
}

export interface StagingResult {
  /** `staging`: a push to the staging branch built and pushed X.Y.Z-staging.N; `promote`: a main push made X.Y.Z. */
  event: 'staging' | 'promote';
  dryRun: boolean;
  /** X.Y.Z from the root package.json at the pushed commit, prerelease stripped. */
  base: string;
  /** `X.Y.Z-staging.N` (staging) or `X.Y.Z` (promote): the git tag, the image tag and the GitHub release. */
  version: string;
  /** N of the staging build (staging), or M, the staging build promoted (promote). */
  n: number;
  /** The commit the images were built from: the pushed commit (staging) or the one staging.M was built from (promote). */
  commit: string;
  /** The commit of the push being handled (for promote a descendant of `commit`, or `commit` itself). */
  pushedCommit: string;
  /** The git tag `version`: `created` now, `existing` (already there at `commit`: a re-run), or `planned`. */
  gitTag: 'created' | 'existing' | 'planned';
  images: StagingImage[];
  /** The GitHub release for `version`; null without `repository` in services.json. */
  release: { tag: string; prerelease: boolean; url: string | null; action: 'created' | 'updated' | 'unchanged' | 'planned' } | null;
  /** The changelog file the release notes come from (workspace-relative). */
  changelog: string;
}

export interface Reservation {
  version: string;
  tag: string;
  n: number;
  /** True when this call created the tag; false when it already pointed at this commit (a re-run) or on a dry run. */
  created: boolean;
}

type Log = (message: string) => void;

function requireStagingLine(ws: Workspace, what: string): void {
  if (ws.config.scheme !== 'staging-line') {
    throw new UsageError(`${what} belongs to the staging line; services.json has "scheme": "${ws.config.scheme}" (set "scheme": "staging-line" to use it)`);
  }
}

const short = (commit: string) => commit.slice(0, 7);
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** N of `tag` when it is `<base>-staging.N`. */
function stagingNumber(tag: string, base: string): number | undefined {
  const match = new RegExp(`^${escape(base)}-staging\\.(0|[1-9][0-9]*)$`).exec(tag);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** X.Y.Z of the root package.json "version" at `commit`, prerelease and build stripped (seed 002). */
export async function stagingBase(ws: Workspace, commit: string): Promise<string> {
  const text = await ws.git().readFileAt({ commit, path: 'package.json' });
  if (text === undefined) throw new UsageError(`package.json: missing at ${short(commit)}; the staging line takes X.Y.Z from the root package.json "version"`);
  let version: unknown;
  try {
    version = (JSON.parse(text) as { version?: unknown }).version;
  } catch (cause) {
    throw new UsageError(`package.json at ${short(commit)} is not valid JSON (${(cause as Error).message})`);
  }
  const match = typeof version === 'string' ? /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:[-+].*)?$/.exec(version) : null;
  if (!match) throw new UsageError(`package.json at ${short(commit)}: "version" is ${JSON.stringify(version)}, not a semantic version X.Y.Z`);
  return `${match[1]}.${match[2]}.${match[3]}`;
}

/** The release notes for `base`: config.changelog.path (with {version}) or docs/development/CHANGELOGS/X.Y.Z.md, at `commit`. */
async function readChangelog(ws: Workspace, commit: string, base: string): Promise<{ path: string; body: string }> {
  const path = ws.config.changelog?.path.replaceAll('{version}', base) ?? changelogPathFor(base);
  const content = await ws.git().readFileAt({ commit, path });
  // Missing or empty → ChangelogError, exit 2 naming the path, before anything is written.
  return { path, body: readVersionChangelog(content, { version: base, path }) };
}

function imageServices(ws: Workspace): ResolvedService[] {
  const services = ws
    .serviceNames()
    .map((name) => ws.service(name))
    .filter((s) => s.kind === 'image');
  if (services.length === 0) throw new UsageError('services.json has no image service: the staging line builds and promotes images');
  return services;
}

// ---------------------------------------------------------------------------------------------
// Reservation

/** Where staging tags are created atomically: GitHub's refs API when `repository` is set, else origin. */
interface TagStore {
  where: string;
  /** Creates refs/tags/<tag> at `commit`: 'created', or the commit the existing tag names. */
  create(tag: string, commit: string): Promise<'created' | { existing: string | undefined }>;
  /** The commit an existing tag names. */
  lookup(tag: string): Promise<string | undefined>;
}

async function tagStore(ws: Workspace): Promise<TagStore> {
  const github = await ws.github();
  if (github) return githubStore(github);
  const git = ws.git();
  return {
    where: 'origin',
    async create(tag, commit) {
      const ref = `refs/tags/${tag}`;
      try {
        await git.pushNewRef(ref, commit);
        return 'created';
      } catch (error) {
        if (error instanceof RefExistsError) return { existing: error.existing?.commit };
        // A push that lost the ref lock to a concurrent one may fail before the winner's ref is visible.
        if (error instanceof GitError && /cannot lock ref|failed to update ref|stale info/i.test(`${error.message}\n${error.stderr}`)) {
          const existing = (await git.remoteRef(ref))?.commit;
          return { existing };
        }
        throw error;
      }
    },
    async lookup(tag) {
      return (await git.remoteRef(`refs/tags/${tag}`))?.commit;
    },
  };
}

function githubStore(github: ReleaseHost): TagStore {
  return {
    where: `GitHub ${github.repository}`,
    async create(tag, commit) {
      try {
        await github.createRef({ ref: `refs/tags/${tag}`, sha: commit });
        return 'created';
      } catch (error) {
        if (error instanceof GitHubRefExistsError) return { existing: error.existing?.commit };
        throw error;
      }
    },
    async lookup(tag) {
      return (await github.getRef(`refs/tags/${tag}`))?.commit;
    },
  };
}

/** Staging tags of `base` already on origin (`git ls-remote`): a hint where N starts, never trusted. */
async function stagingHint(ws: Workspace, base: string, log: Log): Promise<{ name: string; n: number; commit: string }[]> {
  let remote;
  try {
    remote = await ws.git().listRemoteTags(`${base}-staging.`);
  } catch (error) {
    // With GitHub doing the reservation, origin is only the hint; without it, origin is the store.
    if (!(error instanceof GitError) || !ws.config.repository) throw error;
    log(`could not list origin's tags (${error.message}); starting from ${base}-staging.0`);
    return [];
  }
  return remote.flatMap((t) => {
    const n = stagingNumber(t.name, base);
    return n === undefined ? [] : [{ name: t.name, n, commit: t.commit }];
  });
}

async function reserve(
  ws: Workspace,
  options: { base: string; commit: string; versionOverride?: string | undefined; dryRun: boolean; log: Log },
): Promise<Reservation> {
  const { base, commit, dryRun, log } = options;
  const store = await tagStore(ws);

  if (options.versionOverride !== undefined) {
    const version = options.versionOverride;
    const info = classifyTag(version, { scheme: 'staging-line' });
    const n = Number(/-staging\.([0-9]+)$/.exec(version)?.[1]);
    if (info.kind !== 'staging' || !Number.isSafeInteger(n)) {
      throw new UsageError(`--version-override ${version}: the staging line reserves X.Y.Z-staging.N versions (e.g. ${base}-staging.99)`);
    }
    if (stagingNumber(version, base) === undefined) log(`warning: ${version} is not on the ${base} line of package.json; a main push will not promote it`);
    const taken = (at: string | undefined) =>
      new PolicyError(
        'E_STAGING_TAG_TAKEN',
        `${version} already exists${at ? ` at ${short(at)}` : ''}, not at ${short(commit)}: an exact reservation accepts an existing tag only at this commit; pick another version`,
      );
    if (dryRun) {
      const at = await store.lookup(version);
      if (at !== undefined && at !== commit) throw taken(at);
      return { version, tag: version, n, created: false };
    }
    const outcome = await store.create(version, commit);
    if (outcome === 'created') {
      log(`reserved ${version} at ${short(commit)} (${store.where})`);
      return { version, tag: version, n, created: true };
    }
    if (outcome.existing !== commit) throw taken(outcome.existing);
    log(`${version} already points at ${short(commit)}: nothing to reserve`);
    return { version, tag: version, n, created: false };
  }

  const seen = await stagingHint(ws, base, log);
  const mine = seen.filter((t) => t.commit === commit).sort((a, b) => b.n - a.n)[0];
  if (mine) {
    // One N per commit: a re-run (or a second job for the same push) reuses it.
    log(`${mine.name} already points at ${short(commit)}: reusing it`);
    return { version: mine.name, tag: mine.name, n: mine.n, created: false };
  }
  let n = stagingNumber(nextStagingVersion(base, seen.map((t) => t.name)), base) ?? 0;
  if (dryRun) return { version: stagingTag(base, n), tag: stagingTag(base, n), n, created: false };

  for (let attempt = 0; attempt < MAX_RESERVE_ATTEMPTS; attempt++) {
    const version = stagingTag(base, n);
    const outcome = await store.create(version, commit);
    if (outcome === 'created') {
      log(`reserved ${version} at ${short(commit)} (${store.where})`);
      return { version, tag: version, n, created: true };
    }
    if (outcome.existing === commit) {
      log(`${version} already points at ${short(commit)}: reusing it`);
      return { version, tag: version, n, created: false };
    }
    // Taken (or, after a lost ref lock, not visible yet: the same N is tried once more).
    if (outcome.existing !== undefined) n++;
  }
  throw new OperationalError(
    'E_STAGING_RESERVE_EXHAUSTED',
    `could not reserve a ${base}-staging.N at ${short(commit)} in ${MAX_RESERVE_ATTEMPTS} attempts (last tried N=${n}); other runs keep taking them — retry, or reserve one with --version-override`,
  );
}

/**
 * `slipway reserve`: reserve `X.Y.Z-staging.N` for `commit` atomically (CONTRACT §2). The base is
 * the root package.json "version" at that commit. When a `<base>-staging.N` tag already names the
 * commit, that N is returned (`created: false`): one N per commit, so re-runs are idempotent.
 * `versionOverride` reserves exactly that version and accepts an existing tag only at this
 * commit (PolicyError, exit 3, otherwise). `service`, when given, must be an image service; the N
 * is shared by every service of the repository.
 */
export async function reserveStagingVersion(
  ws: Workspace,
  options: { service?: string; commit: string; versionOverride?: string; dryRun: boolean; log: (m: string) => void },
): Promise<Reservation> {
  requireStagingLine(ws, 'slipway reserve');
  if (options.service !== undefined && ws.service(options.service).kind !== 'image') {
    throw new UsageError(`${options.service} is an npm service; staging versions are reserved for image builds`);
  }
  const commit = await ws.git().resolveCommit(options.commit);
  const base = await stagingBase(ws, commit);
  // A reservation is for a build: configuration that cannot build is refused before it takes an N.
  await assertBuildable(ws, options.service === undefined ? imageServices(ws) : [ws.service(options.service)], { commit, version: stagingTag(base, 0) });
  return reserve(ws, { base, commit, versionOverride: options.versionOverride, dryRun: options.dryRun, log: options.log });
}

// ---------------------------------------------------------------------------------------------
// Registry reads

/** What to do about a registry that refused to list tags (seed 002: 401/403 fail with guidance). */
function accessError(error: UnauthorizedError | DeniedError, image: string): OperationalError {
  const host = error.host ?? image.split('/')[0] ?? image;
  const ghcr = host === 'ghcr.io';
  const fix =
    error instanceof UnauthorizedError
      ? ghcr
        ? 'set GHCR_TOKEN (or GITHUB_TOKEN) to a token with read:packages; in GitHub Actions grant `permissions: packages: read` (write to push)'
        : `log in to ${host} (docker login, or a credential helper in ~/.docker/config.json) as a user who may pull ${image}`
      : ghcr
        ? `the token may not read the package ${image}: give this repository access in the package settings (Manage Actions access) and grant \`packages: read\``
        : `the credentials for ${host} are valid but may not pull ${image}: grant them pull (read) access`;
  return new OperationalError(error.code, `listing the tags of ${image} was refused (${error.status ?? '?'}): ${fix}`, { cause: error });
}

/**
 * Every tag of the image's repository, all pages. `missing` says what a 404 for the repository
 * means: `empty` (a first publish) or `error` (nothing to promote).
 */
async function listImageTags(registry: Registry, repository: string, image: string, missing: 'empty' | 'error'): Promise<string[] | undefined> {
  try {
    return await registry.listTags(repository);
  } catch (error) {
    if (error instanceof NotFoundError && error.kind === 'name') {
      if (missing === 'empty') return [];
      return undefined;
    }
    if (error instanceof UnauthorizedError || error instanceof DeniedError) throw accessError(error, image);
    throw error;
  }
}

/** The versions among an image's tags (staging-line grammar: X.Y.Z and X.Y.Z-staging.N). */
function versionsOf(tags: readonly string[]): string[] {
  return tags.filter((tag) => {
    if (!/^[0-9]/.test(tag)) return false;
    try {
      const kind = classifyTag(tag, { scheme: 'staging-line' }).kind;
      return kind === 'staging' || kind === 'release';
    } catch {
      return false;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Staging push

/**
 * `slipway ci` on a push to `staging`: reserve X.Y.Z-staging.N once for `commit` (an existing
 * staging tag at the commit is reused), build every image service at that commit (layer builds
 * read the commit's files, not the working tree), push `X.Y.Z-staging.N` and — when it is the
 * highest staging version of the image — `staging`, check every tag resolves to the pushed
 * digest, and create the prerelease GitHub release from the version's changelog file.
 * Bad input (no changelog, no package.json version, a service without build) stops before the
 * reservation. `versionOverride` (a manual dispatch's emergency republish) reserves exactly that
 * X.Y.Z-staging.N, as `slipway reserve --version-override` does.
 */
export async function stagingPush(
  ws: Workspace,
  options: { commit: string; dryRun: boolean; log: (m: string) => void; versionOverride?: string | undefined },
): Promise<StagingResult> {
  requireStagingLine(ws, 'a staging push');
  const { dryRun, log } = options;
  const commit = await ws.git().resolveCommit(options.commit);
  const base = await stagingBase(ws, commit);
  const changelog = await readChangelog(ws, commit, base);
  const services = imageServices(ws);
  // Everything knowable offline (a missing build, a base without tag, a template naming a mutable
  // tag, a missing folder) is refused here, before a staging number is reserved.
  await assertBuildable(ws, services, { commit, version: stagingTag(base, 0), building: true });
  const github = await ws.github();

  const reservation = await reserve(ws, { base, commit, versionOverride: options.versionOverride, dryRun, log });
  if (!dryRun) crashPoint(ws.env, 'staging:reserve');
  const version = reservation.version;
  const images: StagingImage[] = [];
  for (const service of services) {
    const { registry, ref } = await ws.registry(service.image);
    const existing = versionsOf((await listImageTags(registry, ref.repository, service.image, 'empty')) ?? []);
    const tagSet = imageTags({ type: 'staging', version, existing }, { scheme: 'staging-line' });
    const artifact = await publishArtifact(ws, { service, commit, version, tagSet, dryRun, log });
    images.push({ service: service.name, image: artifact.image, digest: artifact.digest, tags: artifact.tags, action: artifact.action });
    if (!dryRun) crashPoint(ws.env, `staging:artifact:${service.name}`);
  }

  let release: StagingResult['release'] = null;
  if (github) {
    if (dryRun) release = { tag: version, prerelease: true, url: null, action: 'planned' };
    else {
      const ensured = await github.ensureRelease({ tag: version, name: version, body: changelog.body, prerelease: true, makeLatest: 'false', targetCommitish: commit });
      release = { tag: version, prerelease: true, url: ensured.release.url, action: ensured.action };
      log(`GitHub prerelease ${version} ${ensured.action}: ${ensured.release.url}`);
      crashPoint(ws.env, 'staging:release');
    }
  }
  return {
    event: 'staging',
    dryRun,
    base,
    version,
    n: reservation.n,
    commit,
    pushedCommit: commit,
    gitTag: dryRun ? 'planned' : reservation.created ? 'created' : 'existing',
    images,
    release,
    changelog: changelog.path,
  };
}

// ---------------------------------------------------------------------------------------------
// Main promote

interface StagingLine {
  service: ResolvedService;
  registry: Registry;
  repository: string;
  tags: string[];
  highest: number | undefined;
}

/**
 * `slipway ci` on a push to main (scheme staging-line): no rebuild. M is the minimum over image
 * services of each image's highest N for the base (every page of tags read); all the staging.M
 * images must come from one commit (their OCI revision label, else the git tag
 * X.Y.Z-staging.M), which must be the pushed commit or an ancestor of it. Then each image is
 * copied by digest to `X.Y.Z` (immutable: an X.Y.Z holding another digest refuses the whole
 * promotion, exit 3, before anything is written) and `latest` (only when X.Y.Z is the highest
 * stable version of the image), the annotated git tag X.Y.Z is pushed, and a non-prerelease
 * GitHub release is created from the changelog file.
 */
export async function mainPromote(ws: Workspace, options: { commit: string; dryRun: boolean; log: (m: string) => void }): Promise<StagingResult> {
  requireStagingLine(ws, 'promoting a main push to X.Y.Z');
  const { dryRun, log } = options;
  const git = ws.git();
  const pushedCommit = await git.resolveCommit(options.commit);
  const base = await stagingBase(ws, pushedCommit);
  const changelog = await readChangelog(ws, pushedCommit, base);
  const services = imageServices(ws);
  const github = await ws.github();

  // 1. M: the newest staging build every image has.
  const lines: StagingLine[] = [];
  const missing: string[] = [];
  for (const service of services) {
    const { registry, ref } = await ws.registry(service.image);
    const tags = await listImageTags(registry, ref.repository, service.image, 'error');
    if (tags === undefined) {
      missing.push(`${service.image} (the repository does not exist)`);
      continue;
    }
    const ns = tags.map((t) => stagingNumber(t, base)).filter((n): n is number => n !== undefined);
    const highest = ns.length > 0 ? Math.max(...ns) : undefined;
    if (highest === undefined) missing.push(`${service.image} (no ${base}-staging.N tag)`);
    lines.push({ service, registry, repository: ref.repository, tags, highest });
  }
  if (missing.length > 0) {
    throw new PolicyError(
      'E_STAGING_MISSING',
      `nothing to promote to ${base}: no staging build for ${missing.join(', ')}. Push to staging first; main only promotes images the staging line built.`,
    );
  }
  const m = Math.min(...lines.map((l) => l.highest as number));
  const from = stagingTag(base, m);
  log(`promoting ${from} (the newest staging build of every image) to ${base}`);

  // 2. The staging.M images, and the one commit they were built from.
  const digests = new Map<StagingLine, string>();
  const revisions: { image: string; commit: string | undefined }[] = [];
  for (const line of lines) {
    const descriptor = await line.registry.resolve(line.repository, from);
    if (!descriptor) {
      throw new PolicyError('E_STAGING_MISSING', `${line.service.image}:${from} does not exist (its newest is ${base}-staging.${String(line.highest)}); every image needs ${from} to promote it`);
    }
    digests.set(line, descriptor.digest);
    revisions.push({ image: `${line.service.image}:${from}`, commit: await imageRevision(line.registry, line.repository, descriptor.digest) });
  }
  const tagCommit = await (await tagStore(ws)).lookup(from);
  const commits = new Set(revisions.map((r) => r.commit ?? tagCommit));
  if (commits.has(undefined)) {
    const unknown = revisions.filter((r) => r.commit === undefined).map((r) => r.image);
    throw new PolicyError('E_STAGING_UNPROVEN', `cannot tell which commit ${unknown.join(', ')} came from: no org.opencontainers.image.revision label and no git tag ${from}`);
  }
  if (commits.size > 1) {
    const list = revisions.map((r) => `${r.image} ← ${short(r.commit ?? tagCommit ?? '?')}`).join(', ');
    throw new PolicyError('E_STAGING_MIXED', `the ${from} images come from different commits (${list})${tagCommit ? `; git tag ${from} is at ${short(tagCommit)}` : ''}: refusing to release a mix`);
  }
  const commit = [...commits][0] as string;
  if (tagCommit !== undefined && tagCommit !== commit) {
    throw new PolicyError('E_STAGING_MIXED', `the ${from} images were built from ${short(commit)}, but git tag ${from} is at ${short(tagCommit)}: refusing to release them`);
  }
  if (commit !== pushedCommit) {
    let onMain: boolean;
    try {
      onMain = await git.isAncestor(commit, pushedCommit);
    } catch (error) {
      if (!(error instanceof RefNotFoundError)) throw error;
      throw new PolicyError('E_STAGING_NOT_ON_MAIN', `${from} was built from ${short(commit)}, which this clone does not have: fetch the full history (actions/checkout fetch-depth: 0) so slipway can check it is on main`);
    }
    if (!onMain) {
      throw new PolicyError(
        'E_STAGING_NOT_ON_MAIN',
        `${from} was built from ${short(commit)}, which is not in the history of the pushed commit ${short(pushedCommit)}: main only promotes staging builds of code it contains`,
      );
    }
    log(`${from} was built from ${short(commit)}, an ancestor of the pushed ${short(pushedCommit)}`);
  }

  // 3. X.Y.Z is immutable: every check before the first write, so a refusal leaves nothing half done.
  const plans: { line: StagingLine; digest: string; immutable: string[]; floating: string[] }[] = [];
  for (const line of lines) {
    const digest = digests.get(line) as string;
    const tagSet = imageTags({ type: 'promote', version: base, existing: versionsOf(line.tags) }, { scheme: 'staging-line', extras: line.service.imageTags });
    for (const tag of tagSet.immutable) {
      try {
        await guardTag(line.registry, line.repository, tag, digest);
      } catch (error) {
        if (!(error instanceof ImmutableTagError)) throw error;
        throw new PolicyError(
          'E_IMMUTABLE_TAG',
          `${line.service.image}:${tag} already holds ${error.existing}, not ${digest} (${from}): ${base} is released and immutable; bump the version in package.json to release newer staging builds`,
        );
      }
    }
    plans.push({ line, digest, immutable: [...tagSet.immutable], floating: [...tagSet.floating] });
  }
  const existingTag = (await git.remoteRef(`refs/tags/${base}`))?.commit ?? (github ? (await github.getRef(`refs/tags/${base}`))?.commit : undefined);
  if (existingTag !== undefined && existingTag !== commit) {
    throw new PolicyError('E_IMMUTABLE_TAG', `git tag ${base} already exists at ${short(existingTag)}, not ${short(commit)} (${from}): ${base} is released and immutable; bump the version in package.json`);
  }
  const localTag = (await git.listTags(base)).find((t) => t.name === base)?.commit;
  if (existingTag === undefined && localTag !== undefined && localTag !== commit) {
    throw new PolicyError('E_IMMUTABLE_TAG', `this clone has a local tag ${base} at ${short(localTag)} that origin does not have; delete it (git tag -d ${base}) and re-run`);
  }

  const images: StagingImage[] = [];
  if (dryRun) {
    for (const { line, digest, immutable, floating } of plans) {
      images.push({ service: line.service.name, image: line.service.image, digest, tags: [...immutable, ...floating], action: 'planned', from });
    }
    return {
      event: 'promote',
      dryRun,
      base,
      version: base,
      n: m,
      commit,
      pushedCommit,
      gitTag: 'planned',
      images,
      release: github ? { tag: base, prerelease: false, url: null, action: 'planned' } : null,
      changelog: changelog.path,
    };
  }

  // 4. Copy by digest: within the repository that is a manifest PUT per tag, no blob moves.
  for (const { line, digest, immutable, floating } of plans) {
    const source = { registry: line.registry, repository: line.repository, reference: digest };
    const fixed = await copyImage({ from: source, to: { repository: line.repository, tags: immutable }, immutable: true });
    // Floating tags move forward only, decided again against the registry at write time.
    const moved = await moveFloatingTags({ registry: line.registry, repository: line.repository, image: line.service.image, digest, version: base, floating });
    const tags = [...immutable, ...moved];
    await verifyTags(line.registry, line.repository, line.service.image, digest, tags);
    log(`${line.service.image}: ${from} → ${tags.join(', ')} @ ${digest}${fixed.tagged.length === 0 ? ' (already there)' : ''}`);
    images.push({
      service: line.service.name,
      image: line.service.image,
      digest,
      tags,
      action: fixed.tagged.length === 0 ? 'unchanged' : 'pushed',
      from,
    });
  }

  // 5. The git tag X.Y.Z, annotated, at the commit the images came from.
  let gitTag: StagingResult['gitTag'] = 'existing';
  if (existingTag === undefined) {
    try {
      await git.createTag({ name: base, commit, message: `${base}\n\nPromoted from ${from}.\n\n${changelog.body}` });
    } catch (error) {
      if (!(error instanceof RefExistsError) || error.existing?.commit !== commit) throw error;
    }
    try {
      gitTag = (await git.pushTag(base)) === 'created' ? 'created' : 'existing';
    } catch (error) {
      if (!(error instanceof RefExistsError) || error.existing?.commit !== commit) throw error;
    }
    log(`git tag ${base} at ${short(commit)} ${gitTag === 'created' ? 'pushed' : 'already on origin'}`);
  }

  let release: StagingResult['release'] = null;
  if (github) {
    const makeLatest = plans.every((p) => p.floating.includes('latest')) ? 'true' : 'false';
    const ensured = await github.ensureRelease({ tag: base, name: base, body: changelog.body, prerelease: false, makeLatest, targetCommitish: commit });
    release = { tag: base, prerelease: false, url: ensured.release.url, action: ensured.action };
    log(`GitHub release ${base} ${ensured.action}: ${ensured.release.url}`);
  }
  return { event: 'promote', dryRun, base, version: base, n: m, commit, pushedCommit, gitTag, images, release, changelog: changelog.path };
}

/** Short human output for `slipway ci`: what was tagged, where the images went, the release. */
export function formatStagingResult(result: StagingResult): string {
  const verb = result.dryRun ? 'would ' : '';
  const head =
    result.event === 'staging'
      ? `${verb}publish ${result.version} from ${short(result.commit)} (tag ${result.gitTag})`
      : `${verb}promote ${stagingTag(result.base, result.n)} → ${result.version} from ${short(result.commit)} (tag ${result.gitTag})`;
  const rows = result.images.map((i) => [i.image, i.digest, i.tags.join(', '), i.action]);
  return [
    head,
    table(['image', 'digest', 'tags', 'action'], rows),
    result.release ? `release ${result.release.tag}${result.release.prerelease ? ' (prerelease)' : ''}: ${result.release.action}${result.release.url ? ` ${result.release.url}` : ''}` : '',
    `notes: ${result.changelog}`,
  ]
    .filter(Boolean)
    .join('\n');
}
