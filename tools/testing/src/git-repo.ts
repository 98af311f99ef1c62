import { execa } from 'execa';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { devNull, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Environment that keeps git away from the machine's own configuration (a developer's
 * ~/.gitconfig with signing or hooks must not change test outcomes) and pins the language so
 * messages are the ones adapters parse. Pass it to code under test too.
 */
export const hermeticGitEnv: Readonly<Record<string, string>> = Object.freeze({
  GIT_CONFIG_GLOBAL: devNull,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_TERMINAL_PROMPT: '0',
  LC_ALL: 'C',
  LANG: 'C',
});

/** Files to write, relative to the work tree; `null` deletes the file. */
export type FileChanges = Record<string, string | null>;

export interface CommitOptions {
  /** Author and committer date; defaults to the repo's deterministic clock. */
  date?: Date;
  author?: { name: string; email: string };
}

export interface TagOptions {
  /** What to tag; default HEAD. */
  ref?: string;
  /** Present → annotated tag with this message; absent → lightweight tag. */
  message?: string;
  date?: Date;
}

/** A working clone with helpers for arranging history. */
export interface GitWorkdir {
  readonly dir: string;
  readonly env: Readonly<Record<string, string>>;
  /** Run git here; returns stdout without the trailing newline. Throws on a non-zero exit. */
  git(...args: string[]): Promise<string>;
  write(files: FileChanges): Promise<void>;
  /** Write `files`, stage everything and commit (empty commits allowed); returns the commit sha. */
  commit(message: string, files?: FileChanges, options?: CommitOptions): Promise<string>;
  /** Create a tag; returns the commit it points at. */
  tag(name: string, options?: TagOptions): Promise<string>;
  /** `git push origin <refspec…>`; with no refspec pushes the current branch. */
  push(...refspecs: string[]): Promise<void>;
  /** Full sha of `ref` (default HEAD), peeled to a commit. */
  revParse(ref?: string): Promise<string>;
}

export interface TempRepo extends GitWorkdir {
  /** Temp folder holding the work tree, the bare origin and any clones. */
  readonly root: string;
  /** Path of the bare `origin` repository. */
  readonly origin: string;
  readonly mainBranch: string;
  /** Sha of the initial commit pushed to origin. */
  readonly initialCommit: string;
  /** Another clone of origin (user and config set like the first), cleaned up with the repo. */
  clone(name?: string): Promise<GitWorkdir>;
  /** Remove everything; safe to call twice. Pass it to vitest's `onTestFinished`. */
  cleanup(): Promise<void>;
}

export interface TempRepoOptions {
  mainBranch?: string;
  /** Content of the initial commit (default: a README.md). */
  files?: Record<string, string>;
  /** First date of the deterministic clock (default 2024-01-01T00:00:00Z). */
  startDate?: Date;
}

/**
 * A git repo in a temp folder with a bare `origin` beside it and one initial commit pushed.
 *
 *   const repo = await createTempRepo();
 *   onTestFinished(repo.cleanup);
 *
 * Commits and tags made through the helpers get dates from a clock that advances one minute per
 * object, so ordering by date is deterministic without sleeping.
 */
export async function createTempRepo(options: TempRepoOptions = {}): Promise<TempRepo> {
  const mainBranch = options.mainBranch ?? 'main';
  const root = await mkdtemp(join(tmpdir(), 'slipway-git-'));
  const origin = join(root, 'origin.git');
  const clock = createClock(options.startDate ?? new Date('2024-01-01T00:00:00Z'));
  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    await rm(root, { recursive: true, force: true });
  };

  try {
    await runGit(root, ['init', '--quiet', '--bare', '-b', mainBranch, origin]);
    const dir = join(root, 'work');
    await runGit(root, ['init', '--quiet', '-b', mainBranch, dir]);
    await configure(dir);
    await runGit(dir, ['remote', 'add', 'origin', origin]);
    const work = workdir(dir, clock);
    const initialCommit = await work.commit('chore: initial commit', options.files ?? { 'README.md': '# test repo\n' });
    await work.push(`HEAD:refs/heads/${mainBranch}`);
    await runGit(dir, ['branch', '--quiet', '--set-upstream-to', `origin/${mainBranch}`]);

    let clones = 0;
    const clone = async (name?: string): Promise<GitWorkdir> => {
      clones += 1;
      const cloneDir = join(root, name ?? `clone-${clones}`);
      await runGit(root, ['clone', '--quiet', '--branch', mainBranch, origin, cloneDir]);
      await configure(cloneDir);
      return workdir(cloneDir, clock);
    };

    return { ...work, root, origin, mainBranch, initialCommit, clone, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

async function configure(dir: string): Promise<void> {
  const settings: [string, string][] = [
    ['user.name', 'Slipway Test'],
    ['user.email', 'test@slipway.invalid'],
    ['commit.gpgsign', 'false'],
    ['tag.gpgSign', 'false'],
    ['gc.auto', '0'],
    ['core.autocrlf', 'false'],
  ];
  for (const [key, value] of settings) await runGit(dir, ['config', key, value]);
}

function workdir(dir: string, clock: () => Date): GitWorkdir {
  const git = (...args: string[]): Promise<string> => runGit(dir, args);
  const dated = (date: Date, extra: Record<string, string> = {}): Record<string, string> => {
    const stamp = `@${Math.floor(date.getTime() / 1000)} +0000`;
    return { GIT_AUTHOR_DATE: stamp, GIT_COMMITTER_DATE: stamp, ...extra };
  };

  const write = async (files: FileChanges): Promise<void> => {
    for (const [path, content] of Object.entries(files)) {
      const full = join(dir, path);
      if (content === null) {
        await rm(full, { force: true });
      } else {
        await mkdir(dirname(full), { recursive: true });
        await writeFile(full, content);
      }
    }
  };

  return {
    dir,
    env: hermeticGitEnv,
    git,
    write,
    async commit(message, files = {}, options = {}) {
      await write(files);
      await git('add', '--all');
      const author: Record<string, string> = options.author
        ? { GIT_AUTHOR_NAME: options.author.name, GIT_AUTHOR_EMAIL: options.author.email }
        : {};
      await runGit(dir, ['commit', '--quiet', '--allow-empty', '--no-verify', '-m', message], dated(options.date ?? clock(), author));
      return git('rev-parse', 'HEAD');
    },
    async tag(name, options = {}) {
      const ref = options.ref ?? 'HEAD';
      const args = options.message === undefined ? ['tag', name, ref] : ['tag', '--annotate', '-m', options.message, name, ref];
      await runGit(dir, args, dated(options.date ?? clock()));
      return git('rev-parse', `${name}^{commit}`);
    },
    async push(...refspecs) {
      await git('push', '--quiet', 'origin', ...(refspecs.length > 0 ? refspecs : ['HEAD']));
    },
    revParse(ref = 'HEAD') {
      return git('rev-parse', '--verify', `${ref}^{commit}`);
    },
  };
}

function createClock(start: Date): () => Date {
  let next = start.getTime();
  return () => {
    const now = new Date(next);
    next += 60_000;
    return now;
  };
}

async function runGit(cwd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const result = await execa('git', args, { cwd, env: { ...hermeticGitEnv, ...env }, stdin: 'ignore', reject: false });
  if (result.exitCode !== 0) {
    throw new Error(`git ${args.join(' ')} failed in ${cwd} (exit ${String(result.exitCode)}): ${result.stderr}`);
  }
  return result.stdout;
}
