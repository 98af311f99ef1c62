// The GitOps side of promotions (CONTRACT §5): where pin files live, and how one promotion becomes
// exactly one pushed commit even when many run at once.
//
// `pins.repo` is either
//   - a checkout: "." (this workspace) or the path of a folder inside a work tree. With an `origin`,
//     origin's branch (the one checked out) is the pins repository: reads and plans see what origin
//     has, and a promotion is committed on top of it in a linked work tree of Slipway's own
//     (`<root>/.slipway/cache/pins-wt-<hash>`, nothing checked out but the pin files) and pushed
//     from there. The user's branch, index and files are never touched: no rebase, no stash, and
//     none of their commits is ever pushed. The linked work tree shares the checkout's config, so
//     its credentials (actions/checkout's token) push. Without an origin, the checkout's branch is
//     the record and promotions are committed there (the embedded default), refusing a pin file
//     with uncommitted changes rather than overwriting it. A detached HEAD (a tag checkout) names no
//     branch: check out the branch, or point pins.repo at the repository's URL.
//   - a git URL or the path of a bare repository: cloned once into
//     `<root>/.slipway/cache/pins-<hash>` and reset to origin's branch before every use.
//
// A promotion is done only when origin has it: every attempt starts again from origin's branch, so
// a run killed between its commit and its push leaves nothing a later run could mistake for done.
// A pin path is written only when every folder on the way is a real folder inside the pins
// repository, in git and on disk: a symlink (or a submodule) on the way is refused before anything
// is written.
//
// Concurrency: a lock file beside the cache serializes slipway processes sharing one workspace;
// different machines race on origin. A push refused as non-fast-forward starts again from the new
// origin and re-plans from the new pins (re-running the pure updater on the new file instead of a
// textual rebase), so two promotions of the same file both land, one after the other, and the
// gates are evaluated against what is really there.

import { createHash, randomInt } from 'node:crypto';
import { lstat, mkdir, open, readFile, realpath, rename, rm, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  NonFastForwardError,
  RefNotFoundError,
  cloneRepository,
  createGit,
  type CommitInfo,
  type GitIdentity,
  type SourceControl,
} from '@slipway/git';
import { redact } from '@slipway/redact';
import { cacheRoot, ensureCacheRoot } from '../cache-root.js';
import { crashPoint } from '../crash-point.js';
import { PinsRepoError } from '../errors.js';

export type PinsRepoMode = 'checkout' | 'clone';

export interface PinsRepo {
  /** `pins.repo` as services.json says it, userinfo (a token in its URL) replaced by `***`. */
  readonly spec: string;
  readonly mode: PinsRepoMode;
  /** Top of the checkout, or of the cache clone. */
  readonly dir: string;
  /** git in `dir`: its config says who commits. */
  readonly git: SourceControl;
  /** The branch promotions land on; undefined on a detached HEAD (reading only). */
  readonly branch: string | undefined;
  /** Whether commits are pushed (an `origin` remote exists). */
  readonly pushes: boolean;
  /** A `pins.path` expansion (relative to the pins folder) as a path from the top of the repository. */
  path(pinPath: string): string;
  /** A file at the commit `refresh()` chose (path from the top); undefined when absent. */
  read(path: string): Promise<string | undefined>;
  /** A file at `commit`. */
  readAt(commit: string, path: string): Promise<string | undefined>;
  /** Many files at once (one git call). */
  readMany(requests: readonly { commit: string; path: string }[]): Promise<(string | undefined)[]>;
  /** Commits touching `paths` up to the commit `refresh()` chose, newest first. */
  log(paths: readonly string[]): Promise<CommitInfo[]>;
  /** Chooses what reads and the next commit build on: origin's branch, fetched now; HEAD without an origin. */
  refresh(): Promise<void>;
  /**
   * Writes `change` on top of the refreshed commit and commits it, in Slipway's own work tree when
   * there is an origin. Refuses (PinsRepoError, exit 2) a path through a symlink or a submodule,
   * and, in a checkout without origin, a pin file with uncommitted changes. Undefined: nothing changed.
   */
  commit(change: PinChange): Promise<string | undefined>;
  /** Pushes `commit` (made by `commit()`) to origin's branch; NonFastForwardError when origin moved on. */
  push(commit: string): Promise<void>;
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

/**
 * Clones `url` into `dir` (replacing what is there) through `<dir>.partial` and a rename: a clone
 * that fails, runs past its deadline or dies with its process is never found at `dir` looking like
 * a clone. Called under the lock.
 */
async function cloneInto(dir: string, options: { url: string; env: Record<string, string | undefined>; secrets: string[] }): Promise<void> {
  const partial = `${dir}.partial`;
  await rm(partial, { recursive: true, force: true });
  try {
    await cloneRepository({ ...options, dir: partial });
    await rm(dir, { recursive: true, force: true });
    await rename(partial, dir);
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}

/** Opens the pins repository under a lock; call `close()` when done (finally). */
export async function openPinsRepo(input: OpenPinsRepoInput): Promise<PinsRepo> {
  const { root } = input;
  // The spec may be a URL with a token in it (https://deploybot:ghp_…@host/infra.git): it is
  // used as given to clone, and shown (messages, progress, `spec`) with its userinfo as `***`.
  const given = input.spec;
  const spec = redact(given);
  const { env, secrets } = gitEnv(input.env);
  let mode: PinsRepoMode;
  let dir: string;
  let prefix = '';
  let url: string | undefined;

  if (URL_LIKE.test(given)) {
    mode = 'clone';
    url = given;
    dir = join(cacheRoot(root), `pins-${hash(given)}`);
  } else {
    const folder = resolve(root, given);
    if (!(await exists(folder))) {
      throw new PinsRepoError('E_PINS_REPO', `pins.repo: ${folder} does not exist (services.json "pins.repo": "${spec}")`, 2);
    }
    const top = await createGit({ cwd: folder, env, secrets }).workTreeRoot();
    if (top === undefined) {
      if (!(await exists(join(folder, 'HEAD'))) || !(await exists(join(folder, 'objects')))) {
        throw new PinsRepoError('E_PINS_REPO', `pins.repo "${spec}": ${folder} is not a git repository (nor inside one)`, 2);
      }
      mode = 'clone';
      url = folder;
      dir = join(cacheRoot(root), `pins-${hash(folder)}`);
    } else {
      mode = 'checkout';
      dir = top;
      // git answers with the real path; so must the folder, or a symlinked pins.repo loses its prefix.
      prefix = relative(await realpath(top), await realpath(folder)).split(sep).join('/');
      if (prefix.startsWith('..')) prefix = '';
    }
  }

  const cache = await ensureCacheRoot(root);
  const release = await acquireLock(`${join(cache, `pins-${hash(mode === 'clone' ? (url ?? given) : dir)}`)}.lock`);
  try {
    if (mode === 'clone' && url !== undefined && !(await exists(join(dir, '.git', 'HEAD')))) {
      input.log?.(`cloning the pins repository ${spec} into ${dir}`);
      await cloneInto(dir, { url, env, secrets });
    }
    const git = createGit({ cwd: dir, env, secrets });
    const branch = await git.currentBranch();
    if (branch === undefined && (input.write || mode === 'clone')) {
      throw new PinsRepoError(
        'E_PINS_REPO',
        mode === 'clone'
          ? `pins.repo ${spec}: the clone in ${dir} is not on a branch; delete that folder and run again`
          : `pins.repo "${spec}": ${dir} has a detached HEAD (a tag checkout?), so a promotion has no branch to commit on; check out the branch (git checkout <branch>) or set pins.repo to the repository's URL`,
        2,
      );
    }
    const pushes = await git.hasOrigin();
    const writer = mode === 'checkout' && pushes ? join(cache, `pins-wt-${hash(dir)}`) : dir;
    return makeRepo({ spec, mode, dir, prefix, git, branch, pushes, writer, url, gitOptions: { env, secrets }, release });
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
  /** Where commits are made: the clone, the checkout without origin, or Slipway's linked work tree. */
  writer: string;
  /** What the cache clone was cloned from (clone mode). */
  url: string | undefined;
  gitOptions: { env: Record<string, string | undefined>; secrets: string[] };
  release: () => Promise<void>;
}): PinsRepo {
  const { spec, mode, dir, prefix, git, branch, pushes, writer } = state;
  const ownTree = writer !== dir;
  const writerGit = ownTree ? createGit({ cwd: writer, ...state.gitOptions }) : git;
  let base: string | undefined;
  let closed = false;

  function refreshed(): string {
    if (base === undefined) throw new Error('pins repository read before refresh()');
    return base;
  }

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

  /**
   * Slipway's linked work tree of the checkout, at `commit` with the index of it and no files
   * checked out. It holds nothing worth keeping: one that is missing, broken or locked (an
   * index.lock left by a git killed with its machine) is made again.
   */
  async function prepareOwnTree(commit: string): Promise<void> {
    const top = await writerGit.workTreeRoot().catch(() => undefined);
    const usable = top !== undefined && (await realpath(top)) === (await realpath(writer));
    if (usable && (await writerGit.reset(commit, 'mixed').then(() => true, () => false))) return;
    await rm(writer, { recursive: true, force: true });
    await git.addWorktree({ dir: writer, commit });
    await writerGit.reset(commit, 'mixed');
  }

  /**
   * The cache clone at `commit`, answering the commit it is at: a clone git can no longer reset (a
   * lock left by a killed git) is cloned again, at origin's tip as that new clone sees it.
   */
  async function resetClone(commit: string): Promise<string> {
    if (await git.reset(commit, 'hard').then(() => true, () => false)) return commit;
    if (state.url === undefined) {
      await git.reset(commit, 'hard');
      return commit;
    }
    await cloneInto(dir, { url: state.url, ...state.gitOptions });
    const tip = await fetchTip();
    await git.reset(tip, 'hard');
    return tip;
  }

  /** Refuses a pin path that is not a plain file in plain folders of the pins repository, in git and on disk. */
  async function checkWritable(paths: readonly string[], at: string): Promise<void> {
    const steps = paths.map((path) => path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/')));
    const entries = await git.treeEntries(at, steps.flat());
    const refuse = (path: string, step: string, what: string): never => {
      throw new PinsRepoError(
        'E_PINS_PATH',
        `${step} is ${what}, so the pin ${path} would be written outside the pins repository (${spec}); pins are written only in real folders of it: replace ${step} with a folder, or change pins.path`,
        2,
      );
    };
    for (const [i, path] of paths.entries()) {
      for (const step of steps[i] ?? []) {
        const entry = entries.get(step);
        const last = step === path;
        if (entry === undefined) continue;
        if (entry.mode === '120000') refuse(path, step, `a symlink in ${at.slice(0, 12)}`);
        if (entry.mode === '160000') refuse(path, step, `a submodule in ${at.slice(0, 12)}`);
        if (!last && entry.type !== 'tree') refuse(path, step, `a file in ${at.slice(0, 12)}`);
        if (last && entry.type !== 'blob') refuse(path, step, `a folder in ${at.slice(0, 12)}`);
      }
      for (const step of steps[i] ?? []) {
        const found = await lstat(join(writer, step)).catch(() => undefined);
        if (found === undefined) break;
        if (found.isSymbolicLink()) refuse(path, step, `a symlink in ${writer}`);
        if (step !== path && !found.isDirectory()) refuse(path, step, `a file in ${writer}`);
        if (step === path && !found.isFile()) refuse(path, step, `not a regular file in ${writer}`);
      }
    }
  }

  /** In the user's own checkout (no origin): a pin file with uncommitted changes is theirs, or a crash's; never overwrite it. */
  async function checkClean(paths: readonly string[]): Promise<void> {
    const changed = new Set((await git.workTreeState())?.changed ?? []);
    const dirty = paths.filter((p) => changed.has(p));
    if (dirty.length > 0) {
      throw new PinsRepoError(
        'E_PINS_DIRTY',
        `${dirty.join(', ')} in ${dir} ${dirty.length === 1 ? 'has' : 'have'} changes that are not committed (a hand edit, or a promotion killed before its commit); commit ${dirty.length === 1 ? 'it' : 'them'}, or remove ${dirty.length === 1 ? 'it' : 'them'} (git checkout -- <path> for a tracked file, rm for a new one), then run again`,
        2,
      );
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
    read: (path) => git.readFileAt({ commit: refreshed(), path }),
    readAt: (commit, path) => git.readFileAt({ commit, path }),
    readMany: (requests) => git.readFilesAt(requests),
    log: (paths) => git.logBetween({ to: refreshed(), paths }),
    async refresh() {
      // A detached checkout names no branch of origin to read: it is read as it is (writing needs a branch).
      if (!pushes || branch === undefined) {
        base = await git.resolveCommit('HEAD');
        return;
      }
      const tip = await fetchTip();
      base = mode === 'clone' ? await resetClone(tip) : tip;
    },
    async commit(change) {
      const at = refreshed();
      const paths = change.files.map((f) => f.path);
      if (ownTree) await prepareOwnTree(at);
      await checkWritable(paths, at);
      if (!pushes) await checkClean(paths);
      for (const file of change.files) await writeInside(writer, file.path, file.content);
      return writerGit.commitFiles({ paths, message: change.message, author: change.author, committer: change.committer });
    },
    async push(commit) {
      await writerGit.push(branch ?? '', commit);
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
  /** The commit now on origin's branch (or the checkout's, without origin); undefined when nothing changed or on a dry run. */
  commit: string | undefined;
  pushed: boolean;
  attempts: number;
}

export const PUSH_ATTEMPTS = 8;

/**
 * Plans against origin's pins, commits the change on top of them and pushes exactly that commit; a
 * push refused because origin moved starts again from the new origin and plans again, at most
 * `attempts` times with jittered backoff. Each loser of a race is beaten by one winner's push, so
 * with N concurrent writers N attempts always suffice. A dry run plans once and writes nothing.
 */
export async function landChange<T>(
  repo: PinsRepo,
  plan: () => Promise<Planned<T>>,
  options: { dryRun: boolean; env: NodeJS.ProcessEnv; attempts?: number; log?: (message: string) => void },
): Promise<Landed<T>> {
  if (options.dryRun) {
    await repo.refresh();
    return { ...(await plan()), commit: undefined, pushed: false, attempts: 0 };
  }
  const attempts = options.attempts ?? PUSH_ATTEMPTS;
  for (let attempt = 1; ; attempt++) {
    await repo.refresh();
    const planned = await plan();
    if (!planned.change) return { ...planned, commit: undefined, pushed: false, attempts: attempt };
    const commit = await repo.commit(planned.change);
    crashPoint(options.env, 'promotion:commit');
    if (commit === undefined || !repo.pushes) return { ...planned, commit, pushed: false, attempts: attempt };
    try {
      await repo.push(commit);
      return { ...planned, commit, pushed: true, attempts: attempt };
    } catch (error) {
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

/**
 * Writes `path` (from the top of `top`) through a temporary file and a rename, creating its folders
 * one at a time and refusing any that is not a real folder: the last line of defence against a
 * symlink appearing on the way after the checks (mkdir -p would follow it).
 */
async function writeInside(top: string, path: string, content: string): Promise<void> {
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i++) {
    const folder = join(top, ...parts.slice(0, i));
    const found = await lstat(folder).catch(() => undefined);
    if (found === undefined) await mkdir(folder).catch((error: NodeJS.ErrnoException) => (error.code === 'EEXIST' ? undefined : Promise.reject(error)));
    else if (!found.isDirectory()) {
      throw new PinsRepoError('E_PINS_PATH', `${parts.slice(0, i).join('/')} in ${top} is not a real folder; nothing was written`, 2);
    }
  }
  const target = join(top, path);
  const temp = `${target}.slipway-${process.pid}-${randomInt(1e9)}.tmp`;
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, target);
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
