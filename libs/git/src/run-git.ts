import { GitError, InvalidRefError, RefNotFoundError } from './errors.js';
import { redact } from '@slipway/redact';

export interface RunGitOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  secrets?: readonly string[];
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

/**
 * execa, loaded on the first git command rather than with this module: a CLI command that reads
 * services.json but runs no git (`slipway tag inspect`) then never parses it at start.
 */
const loadExeca = async () => (await import('execa')).execa;

/** Runs git; a status outside `okStatus` (default [0]) throws a redacted GitError. */
export function createRunner({ cwd, env = {}, secrets = [] }: RunGitOptions): GitRunner {
  return async (args, { okStatus = [0], input } = {}) => {
    const command = redact(['git', ...args].map(quoteArg).join(' '), secrets);
    const execa = await loadExeca();
    const result = await execa('git', args, {
      cwd,
      env: { ...env, ...FORCED_ENV },
      ...(input === undefined ? { stdin: 'ignore' as const } : { input }),
      reject: false,
      stripFinalNewline: false,
      maxBuffer: 1024 * 1024 * 1024,
    });
    if (result.exitCode === undefined) {
      // Not started (git missing, cwd missing) or killed. execa's own error holds the raw command
      // line, so only a redacted copy of its short message goes into the cause.
      const reason = redact(result.shortMessage ?? 'git did not start', secrets);
      throw new GitError(`could not run ${command}: ${reason}`, { command, cause: new Error(reason) });
    }
    const stdout = String(result.stdout);
    const stderr = redact(String(result.stderr), secrets);
    if (!okStatus.includes(result.exitCode)) {
      throw new GitError(`${command} failed (exit ${String(result.exitCode)}): ${summarize(stderr)}`, {
        command,
        status: result.exitCode,
        stderr,
      });
    }
    return { stdout, stderr, status: result.exitCode };
  };
}

/**
 * Runs a git command fed `input` on stdin and returns its stdout as bytes (for `cat-file --batch`).
 * Typed as Uint8Array, not Buffer: these declarations ship, and a consumer compiling them needs
 * no Node typings.
 */
export function createBatchRunner({ cwd, env = {}, secrets = [] }: RunGitOptions): (args: readonly string[], input: string) => Promise<Uint8Array> {
  return async (args, input) => {
    const command = redact(['git', ...args].map(quoteArg).join(' '), secrets);
    const execa = await loadExeca();
    const result = await execa('git', args, { cwd, env: { ...env, ...FORCED_ENV }, input, encoding: 'buffer', reject: false, maxBuffer: 1024 * 1024 * 1024 });
    if (result.exitCode === undefined) {
      const reason = redact(result.shortMessage ?? 'git did not start', secrets);
      throw new GitError(`could not run ${command}: ${reason}`, { command, cause: new Error(reason) });
    }
    if (result.exitCode !== 0) {
      const stderr = redact(Buffer.from(result.stderr).toString('utf8'), secrets);
      throw new GitError(`${command} failed (exit ${String(result.exitCode)}): ${summarize(stderr)}`, { command, status: result.exitCode, stderr });
    }
    return Buffer.from(result.stdout);
  };
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
