// What promote, rollback, status and history share: reading a service's pins and promotion record
// from the pins repository, resolving versions to digests, and building the one-file change.

import { environmentOrder, pinPath, type ResolvedService } from '@slipway/config';
import type { GitIdentity, SourceControl } from '@slipway/git';
import {
  DeployRefError,
  UnknownEnvironmentError,
  isFloatingTag,
  parseTrailers,
  pinUpdater,
  promotionCommitMessage,
  readPinned,
  type Pinned,
} from '@slipway/pins';
import { classifyTag, releaseTag, type TagInfo } from '@slipway/tag';
import { NotPublishedError, UsageError } from './errors.js';
import type { PinChange, PinsRepo } from './adapters/pins-repo.js';
import type { Workspace } from './workspace.js';

/** One promotion commit read back from its trailers (CONTRACT §5). */
export interface PromotionRecord {
  commit: string;
  /** Author date, ISO 8601. */
  date: string;
  /** Commit author: the person (or CI actor) who promoted. */
  author: string;
  subject: string;
  service: string;
  environment: string;
  version: string | null;
  digest: string;
  from: string;
  approvedBy: string[];
  /**
   * The digest the environment's pin file held after this commit; null when the commit did not
   * change that file or it pins nothing readable. Differing from `digest` means the trailer claims
   * what the file never said: the gates go by the file.
   */
  pinned: string | null;
}

/** What an environment's pin file held after one commit that changed it. */
export interface HeldPin {
  commit: string;
  digest: string;
  version: string | undefined;
  tag: string | undefined;
  imageTag: string | undefined;
}

/** A service's pins as the pins repository has them (origin's branch) and its promotion record. */
export interface PinState {
  service: ResolvedService;
  /** Environments in chain order. */
  environments: string[];
  /** Pin file per environment, from the top of the pins work tree. */
  paths: Record<string, string>;
  contents: Record<string, string | undefined>;
  current: Record<string, Pinned | undefined>;
  /** Newest first; commits without Slipway trailers (hand edits) are not promotions and are left out. */
  history: PromotionRecord[];
  /**
   * Per environment, newest first: the digest its pin file held after each commit that changed it,
   * read from the file itself. This, not the trailers, is what the gates and rollback trust: a
   * trailer is what someone wrote in a commit message. Undefined unless read (`HeldReading`).
   */
  held: Record<string, HeldPin[]> | undefined;
}

/** The service, refusing npm services: they have no image to pin. */
export function imageService(ws: Workspace, name: string): ResolvedService {
  const service = ws.service(name);
  if (service.kind !== 'image') {
    throw new UsageError(`service "${name}" is published with npm (kind: "npm"); it has no image to promote`);
  }
  return service;
}

/** An environment of services.json; missing → usage error, unknown → UnknownEnvironmentError (both exit 2). */
export function requireEnvironment(ws: Workspace, value: unknown, flag: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`${flag} <environment> is required`);
  const known = Object.keys(ws.config.environments);
  if (!known.includes(value)) throw new UnknownEnvironmentError(value, known);
  return value;
}

export function stringList(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/**
 * What to read of the pin files' past (`PinState.held`): `all` — every commit that changed each
 * environment's file, what the gates need; `promotions` — only the promotion commits, for history's
 * `pinned`; `none` — nothing (status). Each costs one batch read, and parsing every old file.
 */
export type HeldReading = 'all' | 'promotions' | 'none';

export async function readPinState(repo: PinsRepo, ws: Workspace, service: ResolvedService, reading: HeldReading = 'all'): Promise<PinState> {
  const environments = environmentOrder(ws.config);
  const format = ws.config.pins.format;
  const paths: Record<string, string> = {};
  const contents: Record<string, string | undefined> = {};
  const current: Record<string, Pinned | undefined> = {};
  for (const environment of environments) {
    const path = repo.path(pinPath(ws.config, service.name, environment));
    paths[environment] = path;
    contents[environment] = await repo.read(path);
    current[environment] = readPinned(format, contents[environment], service.image, { path });
  }
  const unique = [...new Set(Object.values(paths))];
  const commits = unique.length > 0 ? await repo.log(unique) : [];
  const history: PromotionRecord[] = [];
  for (const commit of commits) {
    const trailers = parseTrailers(`${commit.subject}\n\n${commit.body}`);
    if (!trailers || trailers.service !== service.name) continue;
    history.push({
      commit: commit.sha,
      date: commit.date,
      author: commit.author.name,
      subject: commit.subject,
      service: trailers.service,
      environment: trailers.environment,
      version: trailers.version ?? null,
      digest: trailers.digest,
      from: trailers.from,
      approvedBy: [...trailers.approvedBy],
      pinned: null,
    });
  }
  const promotions = new Set(history.map((r) => `${r.commit} ${r.environment}`));
  const wanted =
    reading === 'none'
      ? undefined
      : commits.flatMap((commit) =>
          environments.flatMap((environment) => {
            const path = paths[environment];
            const asked = reading === 'all' || promotions.has(`${commit.sha} ${environment}`);
            return asked && path !== undefined && commit.files.includes(path) ? [{ environment, commit: commit.sha, path }] : [];
          }),
        );
  const held = wanted && (await readHeld(repo, ws, service, environments, wanted));
  if (held) for (const record of history) record.pinned = held[record.environment]?.find((h) => h.commit === record.commit)?.digest ?? null;
  return { service, environments, paths, contents, current, history, held };
}

/** One batch read of the pin files at the commits asked for; each distinct text is parsed once. */
async function readHeld(
  repo: PinsRepo,
  ws: Workspace,
  service: ResolvedService,
  environments: readonly string[],
  wanted: readonly { environment: string; commit: string; path: string }[],
): Promise<Record<string, HeldPin[]>> {
  const contents = await repo.readMany(wanted);
  const parsed = new Map<string, Pinned | undefined>();
  const held: Record<string, HeldPin[]> = Object.fromEntries(environments.map((e) => [e, []]));
  wanted.forEach(({ environment, commit, path }, i) => {
    const text = contents[i];
    if (text === undefined) return;
    if (!parsed.has(text)) {
      try {
        parsed.set(text, readPinned(ws.config.pins.format, text, service.image, { path }));
      } catch {
        // A file that did not parse then pinned nothing anyone could deploy.
        parsed.set(text, undefined);
      }
    }
    const pinned = parsed.get(text);
    if (pinned) held[environment]?.push({ commit, digest: pinned.digest, version: pinned.version, tag: pinned.tag, imageTag: pinned.imageTag });
  });
  return held;
}

/** What `environment`'s pin file held; a state read without it is a bug, never "held nothing". */
export function heldIn(state: PinState, environment: string): HeldPin[] {
  if (state.held === undefined) throw new Error(`readPinState(…, 'none') cannot answer what ${environment} held`);
  return state.held[environment] ?? [];
}

/** Per environment, every digest its pin file ever held (what is pinned now first). */
export function promotedThrough(state: PinState): Record<string, string[]> {
  const through: Record<string, string[]> = {};
  for (const environment of state.environments) {
    const digests = heldIn(state, environment).map((h) => h.digest);
    const now = state.current[environment]?.digest;
    through[environment] = [...new Set(now === undefined ? digests : [now, ...digests])];
  }
  return through;
}

export function currentDigests(state: PinState): Record<string, { digest: string } | undefined> {
  return Object.fromEntries(state.environments.map((e) => [e, state.current[e] ? { digest: state.current[e].digest } : undefined]));
}

/** What a digest is known as: version, release tag, image tag. */
export interface Described {
  version?: string | undefined;
  tag?: string | undefined;
  imageTag?: string | undefined;
}

/**
 * What the pin files already say about `digest`: a current pin that names it, else the newest file
 * that held it (so a rollback restores the same version and tags). Trailers are not asked: they
 * are what a commit message claims.
 */
export function describeDigest(state: PinState, digest: string): Described {
  const named = (p: { version?: string | undefined; tag?: string | undefined; imageTag?: string | undefined } | undefined) =>
    p !== undefined && (p.version ?? p.tag ?? p.imageTag) !== undefined;
  for (const environment of state.environments) {
    const pinned = state.current[environment];
    if (pinned?.digest === digest && named(pinned)) return { version: pinned.version, tag: pinned.tag, imageTag: pinned.imageTag };
  }
  const held = state.environments.flatMap((e) => heldIn(state, e)).find((h) => h.digest === digest && named(h));
  return held ? { version: held.version, tag: held.tag, imageTag: held.imageTag } : {};
}

function classifyOptions(ws: Workspace) {
  return { scheme: ws.config.scheme, services: ws.config.services } as const;
}

/** The release tag of `version` for the service, classified (its `name` is the image tag). */
export function releaseTagInfo(ws: Workspace, service: ResolvedService, version: string): TagInfo {
  if (isFloatingTag(version)) {
    throw new DeployRefError('E_FLOATING_TAG', `"${version}" is a floating tag; promote a version (X.Y.Z), a digest or a release manifest`, {
      field: 'version',
      value: version,
    });
  }
  const bare = /^v\d/.test(version) ? version.slice(1) : version;
  return classifyTag(releaseTag(bare, { ...classifyOptions(ws), service: service.name }), classifyOptions(ws));
}

/** The classified release tag, or undefined when it doesn't classify under the scheme. */
export function tryClassify(ws: Workspace, tag: string): TagInfo | undefined {
  try {
    return classifyTag(tag, classifyOptions(ws));
  } catch {
    return undefined;
  }
}

export interface ResolvedVersion extends Described {
  digest: string;
  info: TagInfo;
}

/**
 * `--version V`: the digest the release tag's image tag names in the service's registry. A version
 * never published is bad input (exit 2); an unreachable registry is operational (exit 1).
 */
export async function resolveVersion(ws: Workspace, service: ResolvedService, version: string): Promise<ResolvedVersion> {
  const info = releaseTagInfo(ws, service, version);
  const { registry, ref } = await ws.registry(service.image);
  let descriptor;
  try {
    descriptor = await registry.resolve(ref.repository, info.name);
  } catch (error) {
    // Imported here, not at the top: `history` reads this module and opens no registry, and a
    // static import of the registry library would put its client on that command's start.
    const { isNotFound } = await import('./adapters/registry-open.js');
    if (!isNotFound(error)) throw error;
  }
  if (!descriptor) {
    throw new NotPublishedError(
      `${info.tag} was never published: ${service.image}:${info.name} is not in the registry (publish it with \`slipway publish ${info.tag}\`)`,
      info.tag,
      service.image,
    );
  }
  return { digest: descriptor.digest, version: info.version ?? undefined, tag: info.tag, imageTag: info.name, info };
}

/** Who promotes, and the commit identity that records it. */
export interface Actor {
  /** `promotedBy`: $GITHUB_ACTOR, else git's user.name in the pins repository, else $USER. */
  name: string;
  author: GitIdentity | undefined;
  /** Set when git has no identity configured (a fresh CI runner). */
  committer: GitIdentity | undefined;
}

export async function promotionActor(env: NodeJS.ProcessEnv, git: SourceControl): Promise<Actor> {
  const configuredName = (await git.configValue('user.name'))?.trim();
  const configuredEmail = (await git.configValue('user.email'))?.trim();
  const github = env['GITHUB_ACTOR']?.trim();
  const local = (env['USER'] ?? env['USERNAME'] ?? env['LOGNAME'])?.trim();
  const name = github || configuredName || local || 'slipway';
  const identity = { name, email: `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}@${github ? 'users.noreply.github.com' : 'localhost'}` };
  return {
    name,
    // The commit's author is who promoted, so `history` can say so without reading old files.
    author: github ? identity : undefined,
    committer: configuredName && configuredEmail ? undefined : identity,
  };
}

export interface PromotionInput extends Described {
  environment: string;
  image: string;
  digest: string;
  from: string;
  approvedBy: readonly string[];
  promotedAt: Date;
  actor: Actor;
}

/** The pin file edit and commit message of one promotion. */
export function promotionChange(ws: Workspace, state: PinState, input: PromotionInput): PinChange {
  const path = state.paths[input.environment];
  if (path === undefined) throw new UnknownEnvironmentError(input.environment, state.environments);
  const promotion = {
    service: state.service.name,
    environment: input.environment,
    image: input.image,
    digest: input.digest,
    version: input.version,
    tag: input.tag,
    imageTag: input.imageTag,
    promotedAt: input.promotedAt,
    promotedBy: input.actor.name,
    from: input.from,
  };
  const content = pinUpdater(ws.config.pins.format, promotion, { path })(state.contents[input.environment]);
  const message = promotionCommitMessage({
    service: state.service.name,
    environment: input.environment,
    version: input.version,
    digest: input.digest,
    from: input.from,
    approvedBy: input.approvedBy,
  });
  return { files: [{ path, content }], message, author: input.actor.author, committer: input.actor.committer };
}

export const shortDigest = (digest: string): string => digest.slice(0, 'sha256:'.length + 12);
