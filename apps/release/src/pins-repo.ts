// The GitOps side of promotions (CONTRACT §5): where pin files live, and how one promotion becomes
// exactly one pushed commit even when many run at once.
//
// `pins.repo` is either
//   - a checkout: "." (this workspace) or the path of a folder inside a work tree. Promotions are
//     committed there, on its checked-out branch, and pushed to its `origin` (credentials are that
//     checkout's, so actions/checkout's token works). Without an origin they stay local commits
//     (the embedded default). A detached HEAD (a tag checkout) can't take commits: check out the
//     branch, or point pins.repo at the repository's URL.
//   - a git URL or the path of a bare repository: cloned once into
//     `<root>/.slipway/cache/pins-<hash>` and reset to origin's branch before every use, so a
//     crashed run never leaves a commit behind that a later run would push.
//
// Concurrency: a lock file beside the cache serializes slipway processes sharing one workspace;
// different machines race on origin. A push refused as non-fast-forward drops our commit, syncs
// with origin and re-plans from the new pins (re-running the pure updater on the new file instead
// of a textual rebase), so two promotions of the same file both land, one after the other, and
// the gates are evaluated against what is really there.

import { createHash, randomInt } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  NonFastForwardError,
  RefNotFoundError,
  cloneRepository,
  createGit,
  redact,
  type CommitInfo,
  type GitIdentity,
  type SourceControl,
} from '@slipway/git';
import { cacheRoot, ensureCacheRoot } from './cache-root.js';
import { PinsRepoError } from './errors.js';

export type PinsRepoMode = 'checkout' | 'clone';

export interface PinsRepo {
  /** `pins.repo` as services.json says it, userinfo (a token in its URL) replaced by `***`. */
  readonly spec: string;
  readonly mode: PinsRepoMode;
  /** Top of the work tree that commits are made in. */
  readonly dir: string;
  readonly git: SourceControl;
  /** The branch promotions are committed on; undefined on a detached HEAD (reading only). */
  readonly branch: string | undefined;
  /** Whether commits are pushed (an `origin` remote exists). */
  readonly pushes: boolean;
  /** A `pins.path` expansion (relative to the pins folder) as a path from the top of the work tree. */
  path(pinPath: string): string;
  /** A file at HEAD (path from the top); undefined when absent. */
  read(path: string): Promise<string | undefined>;
  /** A file at `commit`. */
  readAt(commit: string, path: string): Promise<string | undefined>;
  /** Commits touching `paths`, newest first. */
  log(paths: readonly string[]): Promise<CommitInfo[]>;
  /** Brings the work tree to origin's branch before a write (checkout: rebase local commits onto it; clone: reset). */
  sync(): Promise<void>;
  /** What reading needs: clone mode fetches and resets its cache; a checkout is read as it is. */
  refresh(): Promise<void>;
  /** Removes `commit` (the tip) again after a refused push. */
  drop(commit: string): Promise<void>;
  /** Releases the lock. */
  close(): Promise<void>;
}

export interface OpenPinsRepoInput {
  /** Workspace root: "." and relative paths are resolved here, and the cache lives under it. */
  root: string;
  spec: string;
  env: NodeJS.ProcessEnv;
  /** Whether the caller will commit (a checkout then needs a branch). */
  write: boolean;
  log?: (message: string) => void;
}

const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\/|^[^/\s:@]+@[^/\s:]+:/i;

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function gitEnv(env: NodeJS.ProcessEnv): { env: Record<string, string | undefined>; secrets: string[] } {
  const secrets = [env['GITHUB_TOKEN'], env['GH_TOKEN']].filter((s): s is string => typeof s === 'string' && s.length >= 8);
  return { env: { ...env }, secrets };
}

/** Opens the pins repository under a lock; call `close()` when done (finally). */
export async function openPinsRepo(input: OpenPinsRepoInput): Promise<PinsRepo> {
  const { root, spec } = input;
  // The spec may be a URL with a token in it (https://deploybot:ghp_…@host/infra.git): never shown.
  const shown = redact(spec);
  const { env, secrets } = gitEnv(input.env);
  let mode: PinsRepoMode;
  let dir: string;
  let prefix = '';
  let url: string | undefined;

  if (URL_LIKE.test(spec)) {
    mode = 'clone';
    url = spec;
    dir = join(cacheRoot(root), `pins-${hash(spec)}`);
  } else {
    const folder = resolve(root, spec);
    if (!(await exists(folder))) {
      throw new PinsRepoError('E_PINS_REPO', `pins.repo: ${folder} does not exist (services.json "pins.repo": "${shown}")`, 2);
    }
    const top = await createGit({ cwd: folder, env, secrets }).workTreeRoot();
    if (top === undefined) {
      if (!(await exists(join(folder, 'HEAD'))) || !(await exists(join(folder, 'objects')))) {
        throw new PinsRepoError('E_PINS_REPO', `pins.repo "${shown}": ${folder} is not a git repository (nor inside one)`, 2);
      }
      mode = 'clone';
      url = folder;
      dir = join(cacheRoot(root), `pins-${hash(folder)}`);
    } else {
      mode = 'checkout';
      dir = top;
      prefix = relative(top, folder).split(sep).join('/');
      if (prefix.startsWith('..')) prefix = '';
    }
  }

  const release = await acquireLock(`${join(await ensureCacheRoot(root), `pins-${hash(mode === 'clone' ? (url ?? spec) : dir)}`)}.lock`);
  try {
    if (mode === 'clone' && url !== undefined && !(await exists(join(dir, '.git', 'HEAD')))) {
      input.log?.(`cloning the pins repository ${shown} into ${dir}`);
      await rm(dir, { recursive: true, force: true });
      await cloneRepository({ url, dir, env, secrets });
    }
    const git = createGit({ cwd: dir, env, secrets });
    const branch = await git.currentBranch();
    if (branch === undefined && (input.write || mode === 'clone')) {
      throw new PinsRepoError(
        'E_PINS_REPO',
        mode === 'clone'
          ? `pins.repo ${shown}: the clone in ${dir} is not on a branch; delete that folder and run again`
          : `pins.repo "${shown}": ${dir} has a detached HEAD (a tag checkout?), so a promotion has no branch to commit on; check out the branch (git checkout <branch>) or set pins.repo to the repository's URL`,
        2,
      );
    }
    const pushes = await git.hasOrigin();
    return makeRepo({ spec: shown, mode, dir, prefix, git, branch, pushes, release });
  } catch (error) {
    await release();
    throw error;
  }
}

function makeRepo(state: {
  spec: string;
  mode: PinsRepoMode;
  dir: string;
  prefix: string;
  git: SourceControl;
  branch: string | undefined;
  pushes: boolean;
  release: () => Promise<void>;
}): PinsRepo {
  const { spec, mode, dir, prefix, git, branch, pushes } = state;
  let closed = false;

  async function fetchTip(): Promise<string> {
    if (branch === undefined) throw new PinsRepoError('E_PINS_REPO', `pins.repo ${spec}: no branch checked out in ${dir}`, 2);
    try {
      return await git.fetchBranch(branch);
    } catch (error) {
      if (error instanceof RefNotFoundError) {
        throw new PinsRepoError('E_PINS_REPO', `pins.repo ${spec}: origin has no branch "${branch}" (a pins repository needs at least one commit on it)`, 2, {
          cause: error,
        });
      }
      throw error;
    }
  }

  return {
    spec,
    mode,
    dir,
    git,
    branch,
    pushes,
    path(pinPath) {
      const joined = posix.normalize(prefix === '' ? pinPath : `${prefix}/${pinPath}`);
      if (isAbsolute(pinPath) || joined.startsWith('../') || joined === '..') {
        throw new PinsRepoError('E_PINS_REPO', `pins.path "${pinPath}" leaves the pins repository`, 2);
      }
      return joined;
    },
    read: (path) => git.readFileAt({ commit: 'HEAD', path }),
    readAt: (commit, path) => git.readFileAt({ commit, path }),
    log: (paths) => git.logBetween({ to: 'HEAD', paths }),
    async sync() {
      if (mode === 'clone') {
        await git.reset(await fetchTip(), 'hard');
      } else if (pushes) {
        const tip = await fetchTip();
        if (!(await git.isAncestor(tip, 'HEAD'))) await git.pullRebase(branch ?? '');
      }
    },
    async refresh() {
      if (mode === 'clone') await git.reset(await fetchTip(), 'hard');
    },
    async drop(commit) {
      await git.reset(`${commit}^`, mode === 'clone' ? 'hard' : 'keep');
    },
    async close() {
      if (closed) return;
      closed = true;
      await state.release();
    },
  };
}

/** A change to land: whole files (paths from the top of the work tree) and one commit message. */
export interface PinChange {
  files: readonly { path: string; content: string }[];
  message: string;
  author?: GitIdentity | undefined;
  committer?: GitIdentity | undefined;
}

export interface Planned<T> {
  /** What to report; from the last plan made. */
  result: T;
  /** Undefined: nothing to change (already pinned). */
  change: PinChange | undefined;
}

export interface Landed<T> extends Planned<T> {
  /** The commit now on the branch; undefined when nothing changed or on a dry run. */
  commit: string | undefined;
  pushed: boolean;
  attempts: number;
}

export const PUSH_ATTEMPTS = 8;

/**
 * Plans against the current pins, commits the change and pushes it; a push refused because origin
 * moved drops the commit, syncs and plans again, at most `attempts` times with jittered backoff.
 * Each loser of a race is beaten by one winner's push, so with N concurrent writers N attempts
 * always suffice. A dry run plans once (after refresh) and writes nothing.
 */
export async function landChange<T>(
  repo: PinsRepo,
  plan: () => Promise<Planned<T>>,
  options: { dryRun: boolean; attempts?: number; log?: (message: string) => void },
): Promise<Landed<T>> {
  if (options.dryRun) {
    await repo.refresh();
    return { ...(await plan()), commit: undefined, pushed: false, attempts: 0 };
  }
  const attempts = options.attempts ?? PUSH_ATTEMPTS;
  for (let attempt = 1; ; attempt++) {
    await repo.sync();
    const planned = await plan();
    const { change } = planned;
    if (!change) return { ...planned, commit: undefined, pushed: false, attempts: attempt };
    for (const file of change.files) await writeAtomic(join(repo.dir, file.path), file.content);
    const commit = await repo.git.commitFiles({
      paths: change.files.map((f) => f.path),
      message: change.message,
      author: change.author,
      committer: change.committer,
    });
    if (commit === undefined || !repo.pushes) return { ...planned, commit, pushed: false, attempts: attempt };
    try {
      await repo.git.push(repo.branch ?? '');
      return { ...planned, commit, pushed: true, attempts: attempt };
    } catch (error) {
      await repo.drop(commit);
      if (!(error instanceof NonFastForwardError)) throw error;
      if (attempt >= attempts) {
        throw new PinsRepoError(
          'E_PINS_PUSH_CONTENDED',
          `origin/${repo.branch ?? ''} of ${repo.spec} kept moving: gave up after ${attempts} attempts; nothing was pushed, run again`,
          1,
          { cause: error },
        );
      }
      options.log?.(`origin/${repo.branch ?? ''} moved on; re-applying on top of it (attempt ${attempt + 1} of ${attempts})`);
      await delay(backoff(attempt));
    }
  }
}

/** Full jitter on an exponential step: 0–50 ms, 0–100 ms, … capped at 1.6 s. */
function backoff(attempt: number): number {
  return randomInt(10, 10 + Math.min(1600, 50 * 2 ** (attempt - 1)));
}

async function writeAtomic(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.slipway-${process.pid}-${randomInt(1e9)}.tmp`;
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
}

const LOCK_WAIT_MS = 120_000;
const STALE_EMPTY_LOCK_MS = 30_000;

/**
 * An O_EXCL lock file holding `<host> <pid>`. A lock of a dead process on this host (or an empty one
 * left by a crash right after creating it) is broken; a live holder is waited for, then reported.
 */
async function acquireLock(path: string): Promise<() => Promise<void>> {
  const started = Date.now();
  for (let round = 0; ; round++) {
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.writeFile(`${hostname()} ${process.pid}\n`);
      } finally {
        await handle.close();
      }
      return async () => {
        await unlink(path).catch(() => undefined);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = await readFile(path, 'utf8').catch(() => '');
    const [host, pidText] = owner.trim().split(' ');
    const pid = Number(pidText);
    const stale =
      owner.trim() === ''
        ? Date.now() - ((await stat(path).catch(() => undefined))?.mtimeMs ?? Date.now()) > STALE_EMPTY_LOCK_MS
        : host === hostname() && Number.isInteger(pid) && pid !== process.pid && !isAlive(pid);
    if (stale) {
      await unlink(path).catch(() => undefined);
      continue;
    }
    if (Date.now() - started > LOCK_WAIT_MS) {
      throw new PinsRepoError('E_PINS_LOCKED', `${path} is held by ${owner.trim() || 'another process'}; another slipway is using the pins repository`, 1);
    }
    await delay(randomInt(5, 5 + Math.min(200, 10 * 2 ** Math.min(round, 5))));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
