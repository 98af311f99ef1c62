import { GitError, GitTimeoutError, InvalidRefError, RefNotFoundError } from './errors.js';
import { killTree, lowSpeedEnv, remoteArgument, resolveRemoteTimeout, sshEnv, subcommand, talksToRemote } from './remote-limits.js';
import { redact } from '@slipway/redact';
import { startGit, text } from './spawn-git.js';

export interface RunGitOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  secrets?: readonly string[];
  /**
   * Total deadline of one command that talks to a remote (clone, fetch, push, ls-remote): past it
   * git and its helpers are killed and the call fails with GitTimeoutError. Default:
   * SLIPWAY_GIT_TIMEOUT (seconds) from the environment, else 10 minutes. Local commands have none.
   */
  remoteTimeoutMs?: number | undefined;
}

export interface GitResult {
  stdout: string;
  stderr: string;
  status: number;
}

export type GitRunner = (args: readonly string[], options?: { okStatus?: readonly number[]; input?: string }) => Promise<GitResult>;

// Messages are parsed (rejection reasons, "would clobber"), so the language is pinned; prompts
// would hang a CI job, so they are off.
const FORCED_ENV = { LC_ALL: 'C', LANG: 'C', LANGUAGE: 'C', GIT_TERMINAL_PROMPT: '0' };

/** The environment git runs with: the caller's over process.env, git's low-speed abort unless set, the forced settings. */
function gitEnvironment(env: Record<string, string | undefined>): { seen: Record<string, string | undefined>; env: Record<string, string | undefined> } {
  const seen = { ...process.env, ...env };
  return { seen, env: { ...env, ...lowSpeedEnv(seen), ...FORCED_ENV } };
}

/** A runner that can also start, ahead of time, what its first command talking to a remote will need. */
export type RemoteAwareRunner = GitRunner & {
  /** Starts looking up the ssh command (`git config core.sshCommand`) now, so the first remote command does not wait for it. */
  prepareRemote(): void;
};

/** Runs git; a status outside `okStatus` (default [0]) throws a redacted GitError. */
export function createRunner({ cwd, env: given = {}, secrets = [], remoteTimeoutMs }: RunGitOptions): RemoteAwareRunner {
  const { seen, env } = gitEnvironment(given);
  const timeoutMs = resolveRemoteTimeout(remoteTimeoutMs, seen);
  let ssh: Promise<Record<string, string>> | undefined;

  /** stdout of a helper command, trimmed; undefined when it fails. */
  const ask = async (args: readonly string[]): Promise<string | undefined> => {
    const { status, stdout } = await startGit(args, { cwd, env }).result;
    return status === 0 ? text(stdout).trim() : undefined;
  };

  /** The ssh connect timeout, added to the command git would use anyway (looked up once). */
  const remoteEnv = async () => ({
    ...env,
    ...(await (ssh ??= (async () => {
      const configured = seen['GIT_SSH_COMMAND'] === undefined && seen['GIT_SSH'] === undefined ? await ask(['config', '--get', 'core.sshCommand']) : undefined;
      return sshEnv(seen, configured || undefined);
    })())),
  });

  /** `origin (https://***@host/x.git)`, or the URL a clone was given, credentials redacted. */
  async function describeRemote(args: readonly string[]): Promise<string> {
    const name = remoteArgument(args);
    if (name === undefined) return 'the remote';
    if (subcommand(args).name === 'clone' || /[:/\\]/.test(name)) return redact(name, secrets);
    const push = subcommand(args).name === 'push' ? ['--push'] : [];
    const url = await ask(['remote', 'get-url', ...push, name]);
    return url === undefined ? name : `${name} (${redact(url, secrets)})`;
  }

  const runner: GitRunner = async (args, { okStatus = [0], input } = {}) => {
    const command = redact(['git', ...args].map(quoteArg).join(' '), secrets);
    const remote = talksToRemote(args);
    const git = startGit(args, { cwd, env: remote ? await remoteEnv() : env, input });
    let timedOut = false;
    const timer = remote
      ? setTimeout(() => {
          timedOut = true;
          if (git.pid !== undefined) killTree(git.pid);
        }, timeoutMs)
      : undefined;
    let result;
    try {
      result = await git.result;
    } finally {
      clearTimeout(timer);
    }
    if (timedOut) {
      throw new GitTimeoutError(await describeRemote(args), timeoutMs, { command, stderr: redact(text(result.stderr), secrets) });
    }
    if (result.status === undefined) throw notRun(command, result.failure, secrets);
    const stdout = text(result.stdout);
    const stderr = redact(text(result.stderr), secrets);
    if (!okStatus.includes(result.status)) throw failed(command, result.status, stderr);
    return { stdout, stderr, status: result.status };
  };
  return Object.assign(runner, { prepareRemote: () => void remoteEnv() });
}

/**
 * Runs a git command fed `input` on stdin and returns its stdout as bytes (for `cat-file --batch`).
 * Typed as Uint8Array, not Buffer: these declarations ship, and a consumer compiling them needs
 * no Node typings. Local only: no deadline.
 */
export function createBatchRunner({ cwd, env: given = {}, secrets = [] }: RunGitOptions): (args: readonly string[], input: string) => Promise<Uint8Array> {
  const { env } = gitEnvironment(given);
  return async (args, input) => {
    const command = redact(['git', ...args].map(quoteArg).join(' '), secrets);
    const result = await startGit(args, { cwd, env, input }).result;
    if (result.status === undefined) throw notRun(command, result.failure, secrets);
    if (result.status !== 0) throw failed(command, result.status, redact(text(result.stderr), secrets));
    return result.stdout;
  };
}

/** git exited with a status the caller does not accept; `stderr` is redacted already. */
function failed(command: string, status: number, stderr: string): GitError {
  return new GitError(`${command} failed (exit ${String(status)}): ${summarize(stderr)}`, { command, status, stderr });
}

/** git did not start (not installed, no such folder) or was stopped by a signal. */
function notRun(command: string, failure: string | undefined, secrets: readonly string[]): GitError {
  const reason = redact(failure ?? 'git did not start', secrets);
  return new GitError(`could not run ${command}: ${reason}`, { command, cause: new Error(reason) });
}

const UNKNOWN_REVISION =
  /not a valid (?:object|commit) name|unknown revision|bad revision|ambiguous argument|needed a single revision|not a commit|failed to resolve|no such ref|does not point to a valid object|bad object|couldn't find remote ref/i;

/** Re-throws a failure caused by a revision that does not exist as RefNotFoundError. */
export function asRefNotFound(error: unknown, ref: string): unknown {
  if (error instanceof GitError && error.constructor === GitError && UNKNOWN_REVISION.test(error.stderr)) {
    return new RefNotFoundError(ref, { command: error.command, status: error.status, stderr: error.stderr });
  }
  return error;
}

/** Revisions and names are passed as arguments; one starting with `-` would be read as an option. */
export function checkRef(ref: string, what = 'ref'): string {
  if (ref.length === 0) throw new InvalidRefError(ref, `${what} is empty`);
  if (ref.startsWith('-')) throw new InvalidRefError(ref, `${what} must not start with "-"`);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(ref)) throw new InvalidRefError(ref, `${what} contains control characters`);
  return ref;
}

function summarize(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('hint:'));
  return lines.slice(-3).join(' / ') || '(no output)';
}

function quoteArg(arg: string): string {
  return /^[\w@%+=:,./^{}~*-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}
