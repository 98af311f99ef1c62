import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommitInfo } from '@slipway/git';
import { RefNotFoundError } from '@slipway/git';
import { blastRadius, parseCommit, type BlastRadius, type ParsedCommit } from '@slipway/notes';
import {
  bumpFromCommits,
  compareVersions,
  nextVersion,
  parseVersion,
  isPrerelease,
  prefixTakesV,
  releaseTag,
  serviceOfTag,
  sortTags,
  TagError,
  tagPrefixOf,
  VersionError,
  type Bump,
  type ClassifyOptions,
  type TagInfo,
} from '@slipway/tag';
import type { GraphSource } from './adapters/project-graph.js';
import { UsageError } from './errors.js';
import { own } from '@slipway/config';
import { normalizeRoot, servicesTouching } from './service-paths.js';
import { unreleasedCommits, type UnreleasedHistory } from './unreleased-commits.js';
import type { Workspace } from './workspace.js';

/** The commit a plan is made at, and the ref it was read from. */
export interface PlanHead {
  ref: string;
  commit: string;
}

export interface PlanCommit {
  sha: string;
  subject: string;
  type: string | null;
  scope: string | null;
  breaking: boolean;
  pr: number | null;
}

/** One row of `slipway plan --json`. */
export interface ServicePlan {
  service: string;
  kind: 'image' | 'npm';
  /** Folders whose changes count for the service: its own and those of every Nx project it depends on. */
  roots: string[];
  /**
   * The release the next one follows: among the service's tags reachable from the plan's head, the
   * latest stable one, or the newest prerelease when it is above it.
   */
  lastTag: string | null;
  lastVersion: string | null;
  /** The last release is a prerelease above the latest stable one, so the next release continues that line. */
  prereleaseLine: boolean;
  /** Commits on the plan's head since `lastTag` that touch `roots`, newest first. */
  commits: PlanCommit[];
  affected: boolean;
  /** No release tag yet: the first release needs an explicit `--version`. */
  firstRelease: boolean;
  bump: Bump | null;
  nextVersion: string | null;
  nextTag: string | null;
  /** `nextTag` is already a tag in this clone (tags are immutable: it cannot be released again). */
  nextTagExists: boolean;
  /**
   * The service's version tags that are not reachable from the plan's head (an abandoned
   * prerelease branch, a canary from a feature branch), ascending. They play no part in the last
   * release or the commits; the next version only steps over their names.
   */
  ignoredTags: string[];
  /** One line a person reads: why the next version is what it is, or why there is none. */
  note: string;
}

export interface ReleasePlan {
  scheme: Workspace['config']['scheme'];
  head: PlanHead;
  services: ServicePlan[];
  /** Everything on head that a planned service has not released, attributed to the services it touches. */
  blastRadius: BlastRadius;
  /**
   * How the history was read: the merge base the single log started from, its size, git log
   * passes, and where the Nx project graph came from (null when every service has a `root`).
   */
  history: { base: string | null; commits: number; gitLogPasses: number; projectGraph: GraphSource | null };
}

/** What release and check need beyond the JSON row. */
export interface ServiceDetail {
  /** Commits the release notes list: the stream's unreleased commits (single: of every service). */
  notesCommits: CommitInfo[];
  /** The highest version tag of the service's stream reachable from the plan's head, prereleases included. */
  highest: TagInfo | null;
  /** Why no next version could be computed (a bad --bump/--preid, a bad package.json version). */
  error: Error | undefined;
  /** For a first release: the package.json its version comes from, or would (per-service only). */
  firstVersionFile: string | undefined;
}

export interface PlanOutcome {
  plan: ReleasePlan;
  details: Map<string, ServiceDetail>;
  /** Every tag name read, for "does this tag exist" questions. */
  tagNames: Set<string>;
}

export interface PlanOptions {
  /** Services to plan, in output order; each must exist in services.json. */
  services: readonly string[];
  /**
   * The commit to plan at, or the promise of it (a fetch of origin, a rev-parse): what does not
   * depend on it (the project graph) is read meanwhile; the tags once it is there.
   */
  head: PlanHead | Promise<PlanHead>;
  bump?: Bump | undefined;
  preid?: string | undefined;
}

/** One release stream: per-service, one per service; single and staging-line, one for the whole workspace. */
interface Stream {
  key: string;
  /** Services whose commits decide the stream's next version. */
  services: string[];
  /** Its version tags reachable from the plan's head, ascending. */
  tags: TagInfo[];
  /** Its version tags that are not, ascending. */
  ignored: TagInfo[];
  last: TagInfo | null;
  stable: TagInfo | null;
  prereleaseLine: boolean;
}

const PREID = /^[A-Za-z][0-9A-Za-z-]*$/;

/**
 * `origin/<mainBranch>` as last fetched when this clone has it, else `HEAD`. Planning never
 * fetches on its own (it writes nothing, not even remote-tracking refs); `plan --fetch` does.
 */
export async function planHead(ws: Workspace): Promise<PlanHead> {
  const git = ws.git();
  const remote = `origin/${ws.config.mainBranch}`;
  try {
    return { ref: remote, commit: await git.resolveCommit(`refs/remotes/${remote}`) };
  } catch (error) {
    if (!(error instanceof RefNotFoundError)) throw error;
  }
  return { ref: 'HEAD', commit: await git.resolveCommit('HEAD') };
}

/**
 * Per service: last release, commits since, next version and tag; plus the blast radius. Reads
 * the tags with one `for-each-ref` and the history with one `git log` for all services.
 */
export async function planReleases(ws: Workspace, options: PlanOptions): Promise<PlanOutcome> {
  const headRead = Promise.resolve(options.head);
  headRead.catch(() => undefined); // awaited below; a failure before that must not go unhandled
  const { config } = ws;
  const git = ws.git();
  const scheme = config.scheme;
  const classify: ClassifyOptions = { scheme, services: config.services } as ClassifyOptions;
  const selected = [...options.services];

  // A few services: let git filter by prefix. Many: read every tag and group them here, which
  // beats testing each of 10,000 tags against 100 prefixes.
  const prefixes =
    scheme === 'per-service'
      ? selected.length <= 10
        ? selected.map((s) => {
            const prefix = tagPrefixOf(config.services, s);
            return prefixTakesV(prefix) ? `${prefix}v` : prefix;
          })
        : []
      : scheme === 'single'
        ? ['v']
        : [];
  // Every service's roots, planned or not: a commit that touches only unplanned services is theirs,
  // not "touching no service" in the blast radius. Read beside the tags (the project graph's cache
  // key is three git reads), once the clone is known not to be shallow: a shallow clone is refused
  // before any Nx graph is computed.
  const needed = new Set(scheme === 'per-service' ? selected : [...selected, ...Object.keys(config.services)]);
  const shallowRead = git.isShallow();
  const rootsRead = shallowRead.then((isShallow) => (isShallow ? undefined : serviceRoots(ws, needed)));
  rootsRead.catch(() => undefined); // awaited below, unless the tags fail first
  // Reachability of every tag at once: the last release is the highest version on the head's
  // history, never one of an abandoned branch.
  const [gitTags, reachable, shallow, head] = await Promise.all([
    headRead.then(() => git.listTags(prefixes)),
    headRead.then((h) => git.tagsMergedInto(h.commit, prefixes)),
    shallowRead,
    headRead,
  ]);
  if (shallow) {
    // Tags beyond the graft look unreachable and commits beyond it look new: the last release and
    // the next version would both be wrong, so say why instead of answering.
    throw new UsageError(
      'this clone is shallow (a CI checkout with fetch-depth 1?): the history and tags that tell which version was released last are not all here. ' +
        'Fetch them with `git fetch --unshallow --tags origin`, or in GitHub Actions set `fetch-depth: 0` on actions/checkout',
    );
  }
  const tagCommits = new Map(gitTags.map((t) => [t.name, t.commit]));
  const tagNames = new Set(tagCommits.keys());

  const streams = new Map<string, Stream>();
  const streamOf = (service: string): Stream => streams.get(scheme === 'per-service' ? service : scheme) as Stream;
  if (scheme === 'per-service') {
    // Group by prefix first (one map probe per "/"), then sort each service's few tags: sorting
    // all 10,000 at once compares twice as often.
    const byService = new Map<string, string[]>(selected.map((s) => [s, []]));
    for (const name of tagNames) {
      const owner = serviceOfTag(name, config.services);
      if (owner !== undefined) byService.get(owner.service)?.push(name);
    }
    for (const service of selected) {
      streams.set(service, makeStream(service, [service], sortTags(byService.get(service) ?? [], { ...classify, service }), reachable, false));
    }
  } else {
    streams.set(scheme, makeStream(scheme, Object.keys(config.services), sortTags([...tagNames], classify), reachable, scheme === 'staging-line'));
  }

  const roots = (await rootsRead) as Map<string, string[]>;

  const lastReleases = new Map([...streams.values()].map((s) => [s.key, s.last ? (tagCommits.get(s.last.tag) ?? null) : null]));
  // A stream's folders, so a first release reads only its own history rather than all of it.
  const streamPaths = new Map([...streams.values()].map((s) => [s.key, s.services.flatMap((service) => (roots.get(service) ?? ['']).map(normalizeRoot))]));
  // Every last release is a tag reachable from head (streams keep only those).
  const history = await unreleasedCommits(git, head.commit, lastReleases, streamPaths, { releasesOnHead: true });

  const parsedCache = new Map<string, ParsedCommit>();
  const parse = (c: CommitInfo): ParsedCommit => {
    let parsed = parsedCache.get(c.sha);
    if (!parsed) parsedCache.set(c.sha, (parsed = parseCommit(c)));
    return parsed;
  };

  // Which services each commit touches, then per service (and per stream, for the notes) the
  // commits `git log <last>..<head> -- <roots>` lists: its history simplification replayed on the
  // one log.
  const touchedBy = servicesTouching(roots);
  const touched = new Map(history.log.map((c) => [c.sha, touchedBy(c.files)]));
  const touchedByFiles = new WeakMap<readonly string[], Set<string>>();
  const touching = (files: readonly string[]): Set<string> => {
    let found = touchedByFiles.get(files);
    if (!found) touchedByFiles.set(files, (found = touchedBy(files)));
    return found;
  };
  const commitOf = new Map(history.log.map((c) => [c.sha, c]));
  let extraPasses = 0;
  const pathHistory = async (key: string, services: readonly string[]): Promise<CommitInfo[]> => {
    const replayed = history.pathHistory(key, (files) => {
      const hit = touching(files);
      return services.some((s) => hit.has(s));
    });
    if (replayed !== undefined) return replayed.map((sha) => commitOf.get(sha) as CommitInfo);
    // The replay cannot be sure of git's answer for this range: ask git (one log for this stream).
    extraPasses += 1;
    const folders = [...new Set(services.flatMap((service) => (roots.get(service) ?? ['']).map(normalizeRoot)))];
    const from = lastReleases.get(key) ?? undefined;
    const listed = await git.logBetween({ ...(from === undefined ? {} : { from }), to: head.commit, paths: folders.includes('') ? [] : folders });
    return listed.map((c) => commitOf.get(c.sha) ?? c);
  };
  const byService = new Map<string, CommitInfo[]>(selected.map((s) => [s, []]));
  const byStream = new Map<string, CommitInfo[]>([...streams.keys()].map((k) => [k, []]));
  if (history.linear) {
    // Without merges git simplifies nothing: one walk over the log gives every service its commits.
    for (const commit of history.log) {
      let streamsHit: Set<string> | undefined;
      for (const service of touched.get(commit.sha) ?? []) {
        const key = scheme === 'per-service' ? service : scheme;
        if (!streams.has(key) || !history.isUnreleased(key, commit.sha)) continue;
        byService.get(service)?.push(commit);
        if (!(streamsHit ??= new Set()).has(key)) {
          streamsHit.add(key);
          byStream.get(key)?.push(commit);
        }
      }
    }
  } else {
    for (const service of selected) byService.set(service, await pathHistory(streamOf(service).key, [service]));
    for (const stream of streams.values()) {
      const only = stream.services.length === 1 ? byService.get(stream.services[0] as string) : undefined;
      byStream.set(stream.key, only ?? (await pathHistory(stream.key, stream.services)));
    }
  }
  const serviceHistory = new Map([...byService].map(([service, commits]) => [service, new Set(commits.map((c) => c.sha))]));

  const stagingBase = scheme === 'staging-line' ? await readBaseVersion(ws.root) : undefined;
  // A per-service first release starts at its project's package.json version (without --bump).
  const firstVersions = new Map<string, FirstVersion>();
  for (const stream of streams.values()) {
    const service = stream.services.length === 1 ? stream.services[0] : undefined;
    if (scheme === 'per-service' && stream.last === null && service !== undefined && selected.includes(service)) {
      firstVersions.set(stream.key, await firstVersionOf(ws, service, head.commit));
    }
  }
  const decisions = new Map<string, Decision>();
  for (const stream of streams.values()) {
    const commits = (byStream.get(stream.key) ?? []).map(parse);
    const first = options.bump === undefined ? firstVersions.get(stream.key) : undefined;
    decisions.set(
      stream.key,
      stagingBase !== undefined
        ? stagingDecision(stream, stagingBase)
        : stepOverTaken(first?.version !== undefined || first?.error !== undefined ? firstDecision(first, commits) : decide(stream, commits, options.bump, options.preid), stream, tagNames, classify),
    );
  }

  const services: ServicePlan[] = [];
  const details = new Map<string, ServiceDetail>();
  for (const service of selected) {
    const stream = streamOf(service);
    const decision = decisions.get(stream.key) as Decision;
    const commits = byService.get(service) ?? [];
    let nextTag: string | null = null;
    let error = decision.error;
    if (decision.next !== null && error === undefined) {
      try {
        nextTag = releaseTag(decision.next, { ...classify, service });
      } catch (cause) {
        error = cause as Error;
      }
    }
    const nextTagExists = nextTag !== null && tagNames.has(nextTag);
    services.push({
      service,
      kind: own(config.services, service)?.kind ?? 'image',
      roots: roots.get(service) ?? [],
      lastTag: stream.last?.tag ?? null,
      lastVersion: stream.last?.version ?? null,
      prereleaseLine: stream.prereleaseLine,
      commits: commits.map((c) => toPlanCommit(parse(c))),
      affected: commits.length > 0,
      firstRelease: stream.last === null,
      bump: decision.bump,
      nextVersion: error === undefined ? decision.next : null,
      nextTag,
      nextTagExists,
      ignoredTags: stream.ignored.map((t) => t.tag),
      note: error !== undefined ? error.message : nextTagExists ? `${nextTag ?? ''} already exists: ${decision.note}` : decision.note,
    });
    details.set(service, { notesCommits: byStream.get(stream.key) ?? [], highest: stream.tags.at(-1) ?? null, error, firstVersionFile: firstVersions.get(stream.key)?.file });
  }

  const keyOf = (service: string) => streamOf(service).key;
  const plan: ReleasePlan = {
    scheme,
    head,
    services,
    blastRadius: radius({
      history,
      touched,
      selected,
      roots,
      keyOf,
      listed: (service, sha) => serviceHistory.get(service)?.has(sha) === true,
      target: head.commit,
      deployed: deployedLabel(selected, streamOf),
    }),
    history: { base: history.base ?? null, commits: history.log.length, gitLogPasses: history.passes + extraPasses, projectGraph: ws.projectGraphSource() ?? null },
  };
  return { plan, details, tagNames };
}

/** The roots of every service of the workspace; one that cannot be found stops the plan only when `needed`. */
async function serviceRoots(ws: Workspace, needed: ReadonlySet<string>): Promise<Map<string, string[]>> {
  const roots = new Map<string, string[]>();
  for (const service of new Set([...needed, ...ws.serviceNames()])) {
    try {
      roots.set(service, await ws.serviceRoots(service));
    } catch (error) {
      // An unplanned service whose project cannot be found must not stop this plan.
      if (needed.has(service)) throw error;
    }
  }
  return roots;
}

function makeStream(key: string, services: string[], all: TagInfo[], reachable: ReadonlySet<string>, stagingLine: boolean): Stream {
  const tags = all.filter((t) => reachable.has(t.tag));
  const ignored = all.filter((t) => !reachable.has(t.tag));
  // On the staging line every X.Y.Z-staging.N is a build towards X.Y.Z, not a release line of its own.
  const stable = tags.filter((t) => (stagingLine ? t.kind === 'release' : !t.prerelease)).at(-1) ?? null;
  const newest = stagingLine ? stable : (tags.at(-1) ?? null);
  const prereleaseLine =
    newest !== null && newest.prerelease && (stable === null || compareVersions(newest.version ?? '', stable.version ?? '') > 0);
  return { key, services, tags, ignored, last: prereleaseLine ? newest : stable, stable, prereleaseLine };
}

/**
 * Tags are immutable and a name is never reused, even one left on an abandoned branch: while the
 * decided version's tag exists anywhere, take the same step again (`2.0.0-alpha.66` taken →
 * `2.0.0-alpha.67`; patch `1.1.27` taken → `1.1.28`).
 */
interface FirstVersion {
  /** The package.json read, relative to the workspace root. */
  file: string;
  version: string | undefined;
  error?: UsageError;
}

/**
 * A never-released service starts at the version its project's package.json holds at the commit
 * being planned, so `nx run release:api` works the first time with no flag. "0.0.0" is the
 * placeholder many generators write, not a version anyone chose: it counts as none.
 */
async function firstVersionOf(ws: Workspace, service: string, commit: string): Promise<FirstVersion> {
  const root = normalizeRoot((await ws.serviceRoots(service))[0] ?? '');
  const file = root === '' ? 'package.json' : `${root}/package.json`;
  const text = await ws.git().readFileAt({ commit, path: file });
  if (text === undefined) return { file, version: undefined };
  let version: unknown;
  try {
    version = (JSON.parse(text) as { version?: unknown } | null)?.version;
  } catch (cause) {
    return { file, version: undefined, error: new UsageError(`${file} at ${commit.slice(0, 7)} is not valid JSON (${(cause as Error).message}): fix it, or choose the first version with --version`) };
  }
  if (version === undefined || version === '0.0.0') return { file, version: undefined };
  if (typeof version !== 'string' || !isVersion(version)) {
    return { file, version: undefined, error: new UsageError(`${file}: "version" is ${JSON.stringify(version)}, not a version Slipway can tag (MAJOR.MINOR.PATCH[-pre]): fix it, or choose the first version with --version`) };
  }
  return { file, version };
}

function isVersion(version: string): boolean {
  try {
    parseVersion(version);
    return true;
  } catch {
    return false;
  }
}

function firstDecision(first: FirstVersion, commits: ParsedCommit[]): Decision {
  if (first.error !== undefined) return { bump: null, next: null, note: first.error.message, error: first.error };
  const since = commits.length === 1 ? '1 commit' : `${commits.length} commits`;
  return { bump: null, next: first.version ?? null, note: `first release (${since}): ${first.version ?? ''} from ${first.file}`, error: undefined };
}

function stepOverTaken(decision: Decision, stream: Stream, tagNames: ReadonlySet<string>, classify: ClassifyOptions): Decision {
  if (decision.next === null || decision.error !== undefined) return decision;
  const service = stream.services.length === 1 ? stream.services[0] : undefined;
  const tagOf = (version: string) => releaseTag(version, { ...classify, service });
  const step: Bump = decision.bump === 'major' || decision.bump === 'minor' || decision.bump === 'prerelease' ? decision.bump : isPrerelease(decision.next) ? 'prerelease' : 'patch';
  let next = decision.next;
  const skipped: string[] = [];
  try {
    for (let tries = 0; tries < 10_000 && tagNames.has(tagOf(next)); tries++) {
      skipped.push(tagOf(next));
      next = nextVersion(next, step);
    }
  } catch (error) {
    if (error instanceof TagError || error instanceof VersionError) return decision;
    throw error;
  }
  if (skipped.length === 0) return decision;
  const what = skipped.length === 1 ? `${skipped[0] ?? ''} exists` : `${skipped.length} tags up to ${skipped.at(-1) ?? ''} exist`;
  return { ...decision, next, note: `${decision.note}; ${what} off this history, so ${next}` };
}

interface Decision {
  bump: Bump | null;
  next: string | null;
  note: string;
  error: Error | undefined;
}

/** The next version of a stream from its commits (conventional commits) or an explicit bump. */
function decide(stream: Stream, commits: ParsedCommit[], bump: Bump | undefined, preid: string | undefined): Decision {
  const last = stream.last;
  const since = commits.length === 1 ? '1 commit' : `${commits.length} commits`;
  if (!last?.version) {
    return {
      bump: null,
      next: null,
      note: `first release (${since}): set "version" in its project's package.json, or give one with --version (e.g. 0.1.0)`,
      error: undefined,
    };
  }
  try {
    if (bump !== undefined) {
      return { bump, next: nextVersion(last.version, bump, preid === undefined ? {} : { preid }), note: `--bump ${bump}`, error: undefined };
    }
    if (commits.length === 0) return { bump: null, next: null, note: `nothing to release since ${last.tag}`, error: undefined };
    if (!stream.prereleaseLine) {
      const commitBump = bumpFromCommits(commits, last.version) ?? 'patch';
      return { bump: commitBump, next: nextVersion(last.version, commitBump), note: `${since}: conventional commits call for ${commitBump}`, error: undefined };
    }
    // A prerelease line continues while its base covers what the commits ask for (1.3.0-rc.1 →
    // 1.3.0-rc.2); a bigger change starts the line over at the bigger version (→ 2.0.0-rc.0).
    // Leaving the line is deliberate: --bump patch (1.3.0-rc.1 → 1.3.0) or --version.
    const stable = stream.stable?.version ?? null;
    const commitBump = bumpFromCommits(commits, stable) ?? 'patch';
    const target = nextVersion(stable, commitBump);
    const parts = parseVersion(last.version);
    const lineBase = parts.core.slice(0, 3).join('.');
    if (compareVersions(target, lineBase) <= 0) {
      return { bump: 'prerelease', next: nextVersion(last.version, 'prerelease'), note: `${since} on the ${lineBase} prerelease line`, error: undefined };
    }
    const word = parts.prerelease[0] !== undefined && PREID.test(parts.prerelease[0]) ? parts.prerelease[0] : 'rc';
    return {
      bump: 'prerelease',
      next: `${target}-${word}.0`,
      note: `${since}: conventional commits call for ${commitBump}, beyond the ${lineBase} prerelease line`,
      error: undefined,
    };
  } catch (error) {
    if (error instanceof VersionError) return { bump: bump ?? null, next: null, note: error.message, error };
    throw error;
  }
}

/** staging-line: the version is the base in the root package.json (seed 002), not computed from commits. */
function stagingDecision(stream: Stream, base: string | Error): Decision {
  if (base instanceof Error) return { bump: null, next: null, note: base.message, error: base };
  const last = stream.last;
  if (last?.version && compareVersions(base, last.version) < 0) {
    const error = new VersionError(base, `the root package.json version is below the last release ${last.tag}; bump it`);
    return { bump: null, next: null, note: error.message, error };
  }
  return { bump: null, next: base, note: 'version from the root package.json', error: undefined };
}

async function readBaseVersion(root: string): Promise<string | Error> {
  const path = join(root, 'package.json');
  let version: unknown;
  try {
    version = (JSON.parse(await readFile(path, 'utf8')) as { version?: unknown }).version;
  } catch (cause) {
    return new VersionError('', `the staging line takes its version from ${path}, which could not be read: ${(cause as Error).message}`);
  }
  if (typeof version !== 'string') return new VersionError(String(version), `${path} has no "version"; the staging line takes X.Y.Z from it`);
  try {
    const parts = parseVersion(version);
    if (parts.core.length !== 3 || parts.prerelease.length > 0) throw new VersionError(version, 'the staging line base is a stable X.Y.Z');
  } catch (error) {
    if (error instanceof VersionError) return error;
    throw error;
  }
  return version;
}

function toPlanCommit(c: ParsedCommit): PlanCommit {
  return { sha: c.sha, subject: c.header || c.subject, type: c.type ?? null, scope: c.scope ?? null, breaking: c.breaking, pr: c.pr ?? null };
}

function deployedLabel(selected: readonly string[], streamOf: (s: string) => Stream): string | null {
  const keys = new Set(selected.map((s) => streamOf(s).key));
  if (keys.size === 1 && selected[0] !== undefined) return streamOf(selected[0]).last?.tag ?? null;
  return "each service's last release";
}

/**
 * The blast radius of what the planned services have not released. Services on different streams
 * (per-service) released different amounts, so a commit counts for a service only when it is
 * unreleased there; a commit touching none of them is listed (as unattributed) only when no
 * planned service has released it yet.
 */
function radius(input: {
  history: UnreleasedHistory;
  touched: ReadonlyMap<string, ReadonlySet<string>>;
  selected: readonly string[];
  roots: ReadonlyMap<string, string[]>;
  keyOf: (service: string) => string;
  /** Whether the service's `git log <last>..head -- <roots>` lists the commit. */
  listed: (service: string, sha: string) => boolean;
  target: string;
  deployed: string | null;
}): BlastRadius {
  const { history, touched, selected, roots, keyOf, listed, target, deployed } = input;
  const open = listed;
  const chosen = new Set(selected);
  const commits = history.log.filter((c) => {
    const services = [...(touched.get(c.sha) ?? [])];
    const mine = services.filter((s) => chosen.has(s));
    if (mine.length > 0) return mine.some((s) => open(s, c.sha));
    // Only other services' work: not this plan's. Work of no service (CI, docs at the root) counts
    // once no planned service has released it.
    return services.length === 0 && selected.every((s) => history.isUnreleased(keyOf(s), c.sha));
  });
  const full = blastRadius({ deployed, target, commits, services: selected.map((name) => ({ name, roots: roots.get(name) ?? [] })) });
  const attributed = full.commits.map((c) => ({ ...c, services: c.services.filter((s) => open(s, c.sha)) }));
  const groupOf = new Map(attributed.map((c) => [c.sha, c.group]));
  const services = full.services.map((impact) => {
    const kept = impact.commits.filter((sha) => open(impact.name, sha));
    const count = (group: string) => kept.filter((sha) => groupOf.get(sha) === group).length;
    return { ...impact, commits: kept, breaking: count('breaking'), features: count('features'), fixes: count('fixes'), other: count('other') };
  });
  return { ...full, commits: attributed, services, unattributed: attributed.filter((c) => c.services.length === 0).map((c) => c.sha) };
}
