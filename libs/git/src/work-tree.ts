import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InvalidRefError } from './errors.js';
import { asRefNotFound, checkRef, createRunner } from './run-git.js';
import type { GitRunner, RunGitOptions } from './run-git.js';

/** An identity for a commit, `Name <email>`. */
export interface GitIdentity {
  name: string;
  email: string;
}

export interface CommitFilesInput {
  /** Files to commit, relative to the work tree's top; deleted files are committed as deletions. */
  paths: readonly string[];
  message: string;
  /** Author of the commit (`--author`); default: git's configured identity. */
  author?: GitIdentity | undefined;
  /** Committer for this commit only (`-c user.name/user.email`), for clones where no identity is configured. */
  committer?: GitIdentity | undefined;
}

/** What a work tree holds, told cheaply: HEAD's tree and the paths that differ from it. */
export interface WorkTreeState {
  /** The top folder of the work tree. */
  top: string;
  /** The tree HEAD names; undefined before the first commit. */
  tree: string | undefined;
  /**
   * Paths (relative to `top`, sorted) that differ from HEAD in the index or the work tree, untracked
   * files included and ignored ones not: with `tree`, they say everything git would see.
   */
  changed: string[];
}

/** Local work-tree operations: what a GitOps writer needs besides fetch and push. */
export interface WorkTreeOperations {
  /** The checked-out branch, or undefined on a detached HEAD. */
  currentBranch(): Promise<string | undefined>;
  /** The top folder of the work tree holding `cwd`; undefined in a bare repository or outside any repository. */
  workTreeRoot(): Promise<string | undefined>;
  /** HEAD's tree and the changed paths (two git calls, side by side); undefined outside a work tree. */
  workTreeState(): Promise<WorkTreeState | undefined>;
  /** Whether the `origin` remote is configured. */
  hasOrigin(): Promise<boolean>;
  /** A config value as git resolves it (repository, global, system); undefined when unset. */
  configValue(key: string): Promise<string | undefined>;
  /**
   * Stages exactly `paths` and commits only them: other staged changes stay staged and out of the
   * commit. Returns the new commit, or undefined when the paths hold no change (never an empty commit).
   */
  commitFiles(input: CommitFilesInput): Promise<string | undefined>;
  /**
   * Moves the checked-out branch (or a detached HEAD) to `commit`: `hard` discards local changes;
   * `keep` keeps them and fails if one would be lost; `mixed` sets the index and leaves the work tree alone.
   */
  reset(commit: string, mode: 'hard' | 'keep' | 'mixed'): Promise<void>;
  /**
   * What `commit`'s tree holds at each of `paths` (from the top, taken literally): one `ls-tree`
   * call. Paths with no entry are absent from the map; a path below a symlink or a file has none.
   */
  treeEntries(commit: string, paths: readonly string[]): Promise<Map<string, TreeEntry>>;
  /**
   * A linked work tree at `dir` with a detached HEAD at `commit` and nothing checked out (`git
   * worktree add --detach --no-checkout`), for writing commits without touching this one. Entries
   * whose folder is gone are pruned first, so a deleted cache is recreated rather than refused.
   */
  addWorktree(input: { dir: string; commit: string }): Promise<void>;
}

/** One entry of a commit's tree. */
export interface TreeEntry {
  /** `100644`, `100755` (files), `120000` (symlink), `040000` (folder), `160000` (submodule). */
  mode: string;
  type: 'blob' | 'tree' | 'commit';
}

// `:(top,literal)` — paths are from the top of the work tree and never globs, whatever the cwd.
const pathspec = (path: string) => `:(top,literal)${path}`;

function checkPath(path: string): string {
  if (path === '' || path.startsWith('/') || path.split('/').includes('..')) {
    throw new InvalidRefError(path, 'a path inside the work tree is relative and has no ".."');
  }
  return checkRef(path, 'path');
}

function identityConfig(identity: GitIdentity | undefined): string[] {
  return identity ? ['-c', `user.name=${identity.name}`, '-c', `user.email=${identity.email}`] : [];
}

export function workTreeOperations(run: GitRunner): WorkTreeOperations {
  return {
    async currentBranch() {
      const { stdout, status } = await run(['symbolic-ref', '--quiet', '--short', 'HEAD'], { okStatus: [0, 1] });
      return status === 0 ? stdout.trim() : undefined;
    },

    async workTreeRoot() {
      const { stdout, status } = await run(['rev-parse', '--show-toplevel'], { okStatus: [0, 128] });
      return status === 0 && stdout.trim() !== '' ? stdout.trim() : undefined;
    },

    async workTreeState() {
      const [revParse, status] = await Promise.all([
        // One rev-parse for both: the top, then HEAD's tree; before the first commit only the top
        // is printed (exit 1), outside a work tree nothing (exit 128).
        run(['rev-parse', '--show-toplevel', '--verify', '--quiet', 'HEAD^{tree}'], { okStatus: [0, 1, 128] }),
        // Porcelain paths are relative to the top, whatever the cwd; -z keeps odd names unquoted.
        run(['status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames', '--ignore-submodules=none'], { okStatus: [0, 128] }),
      ]);
      const [top = '', tree] = revParse.stdout.split('\n');
      if (revParse.status === 128 || status.status !== 0 || top.trim() === '') return undefined;
      const changed = status.stdout
        .split('\0')
        .filter((entry) => entry.length > 3)
        .map((entry) => entry.slice(3))
        .sort();
      return { top: top.trim(), tree: revParse.status === 0 && tree ? tree.trim() : undefined, changed };
    },

    async hasOrigin() {
      const { status } = await run(['remote', 'get-url', 'origin'], { okStatus: [0, 2, 128] });
      return status === 0;
    },

    async configValue(key) {
      checkRef(key, 'config key');
      const { stdout, status } = await run(['config', '--get', key], { okStatus: [0, 1] });
      return status === 0 ? stdout.replace(/\n$/, '') : undefined;
    },

    async commitFiles({ paths, message, author, committer }) {
      if (paths.length === 0) throw new InvalidRefError('', 'commitFiles needs at least one path');
      const specs = paths.map((p) => pathspec(checkPath(p)));
      await run(['add', '--all', '--', ...specs]);
      const staged = await run(['diff', '--cached', '--quiet', '--no-ext-diff', '--', ...specs], { okStatus: [0, 1] });
      if (staged.status === 0) return undefined;
      await run([
        ...identityConfig(committer),
        'commit',
        '--quiet',
        '--no-verify',
        '--cleanup=verbatim',
        ...(author ? [`--author=${author.name} <${author.email}>`] : []),
        '-m',
        message,
        '--only',
        '--',
        ...specs,
      ]);
      const { stdout } = await run(['rev-parse', 'HEAD']);
      return stdout.trim();
    },

    async reset(commit, mode) {
      checkRef(commit);
      try {
        await run(['reset', '--quiet', `--${mode}`, commit]);
      } catch (error) {
        throw asRefNotFound(error, commit);
      }
    },

    async treeEntries(commit, paths) {
      checkRef(commit);
      const entries = new Map<string, TreeEntry>();
      if (paths.length === 0) return entries;
      const wanted = new Set(paths.map(checkPath));
      let stdout: string;
      try {
        // -t lists the folders it descends into; --full-tree makes paths relative to the top.
        ({ stdout } = await run(['ls-tree', '-z', '-t', '--full-tree', commit, '--', ...[...wanted].map((p) => `:(literal)${p}`)]));
      } catch (error) {
        throw asRefNotFound(error, commit);
      }
      for (const line of stdout.split('\0')) {
        const match = /^(\d{6}) (blob|tree|commit) [0-9a-f]+\t(.*)$/s.exec(line);
        if (match?.[3] !== undefined && wanted.has(match[3])) entries.set(match[3], { mode: match[1] ?? '', type: match[2] as TreeEntry['type'] });
      }
      return entries;
    },

    async addWorktree({ dir, commit }) {
      checkRef(commit);
      checkRef(dir, 'path');
      await run(['worktree', 'prune']);
      try {
        await run(['worktree', 'add', '--quiet', '--detach', '--no-checkout', dir, commit]);
      } catch (error) {
        throw asRefNotFound(error, commit);
      }
    },
  };
}

export interface CloneInput extends Omit<RunGitOptions, 'cwd'> {
  /** A git URL or the path of a repository. */
  url: string;
  /** Folder to clone into; must not exist or be empty. Its parent is created. */
  dir: string;
  /** Branch to check out; default: the remote's default branch. */
  branch?: string | undefined;
}

/**
 * `git clone --no-tags` into `dir`; errors are GitError with credentials redacted. A clone that
 * fails (or runs past its deadline and is killed) leaves no `dir` behind when there was none.
 */
export async function cloneRepository({ url, dir, branch, env, secrets, remoteTimeoutMs }: CloneInput): Promise<void> {
  checkRef(url, 'url');
  if (branch !== undefined) checkRef(branch, 'branch');
  await mkdir(dirname(dir), { recursive: true });
  const run = createRunner({ cwd: dirname(dir), env, secrets, remoteTimeoutMs });
  const existed = await stat(dir).then(
    () => true,
    () => false,
  );
  try {
    await run(['clone', '--quiet', '--no-tags', ...(branch === undefined ? [] : ['--branch', branch]), '--', url, dir]);
  } catch (error) {
    if (!existed) await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
