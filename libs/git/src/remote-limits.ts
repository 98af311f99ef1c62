// Bounds for git commands that talk to a remote. A remote that accepts a connection and never
// answers, or trickles a byte now and then, must not hold a release or a promotion forever:
//
// - every command that talks to a remote (clone, fetch, push, ls-remote, pull) has a total
//   deadline, after which git and everything it started (git-remote-http, ssh) are killed;
// - over http(s), git's own low-speed abort (GIT_HTTP_LOW_SPEED_LIMIT/_TIME) ends a transfer that
//   stays below 1000 bytes/s for 60 s, unless the environment already sets them;
// - over ssh, OpenSSH gets a connect timeout (it covers the banner exchange too), appended to the
//   user's own ssh command (GIT_SSH_COMMAND, else core.sshCommand) when that command is OpenSSH's.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { InvalidGitSettingError } from './errors.js';

/** The total deadline of one git command that talks to a remote, unless SLIPWAY_GIT_TIMEOUT or `remoteTimeoutMs` says otherwise. */
export const DEFAULT_REMOTE_TIMEOUT_MS = 10 * 60_000;
/** The environment variable (seconds) that overrides the deadline. */
export const REMOTE_TIMEOUT_ENV = 'SLIPWAY_GIT_TIMEOUT';
export const LOW_SPEED_LIMIT_BYTES = 1000;
export const LOW_SPEED_TIME_S = 60;
export const SSH_CONNECT_TIMEOUT_S = 30;

const REMOTE_COMMANDS = new Set(['clone', 'fetch', 'push', 'ls-remote', 'pull']);
// Global options that take a value as the next argument.
const GLOBAL_WITH_VALUE = new Set(['-c', '-C', '--git-dir', '--work-tree', '--namespace', '--config-env']);

/** The git subcommand of `args` (after global options such as `-c key=value`). */
export function subcommand(args: readonly string[]): { name: string | undefined; at: number } {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (GLOBAL_WITH_VALUE.has(arg)) i++;
    else if (!arg.startsWith('-')) return { name: arg, at: i };
  }
  return { name: undefined, at: -1 };
}

export function talksToRemote(args: readonly string[]): boolean {
  const { name } = subcommand(args);
  return name !== undefined && REMOTE_COMMANDS.has(name);
}

/**
 * The remote a command names, for messages: the URL for `clone` (after `--`), else the first
 * argument after the subcommand that is not an option (`origin`).
 */
export function remoteArgument(args: readonly string[]): string | undefined {
  const { name, at } = subcommand(args);
  if (name === 'clone') {
    const dash = args.indexOf('--', at);
    return dash >= 0 ? args[dash + 1] : args.slice(at + 1).find((a) => !a.startsWith('-'));
  }
  return args.slice(at + 1).find((a) => !a.startsWith('-'));
}

/** The deadline in ms: `explicit`, else SLIPWAY_GIT_TIMEOUT (seconds, > 0) from `env`, else the default. */
export function resolveRemoteTimeout(explicit: number | undefined, env: Record<string, string | undefined>): number {
  if (explicit !== undefined) {
    if (!(explicit > 0) || !Number.isFinite(explicit)) throw new InvalidGitSettingError(`remoteTimeoutMs must be a positive number of milliseconds, not ${String(explicit)}`);
    return explicit;
  }
  const text = env[REMOTE_TIMEOUT_ENV];
  if (text === undefined || text.trim() === '') return DEFAULT_REMOTE_TIMEOUT_MS;
  const seconds = Number(text.trim());
  if (!Number.isFinite(seconds) || seconds <= 0 || !/^\d+(\.\d+)?$/.test(text.trim())) {
    throw new InvalidGitSettingError(`${REMOTE_TIMEOUT_ENV}=${JSON.stringify(text)}: expected a positive number of seconds (e.g. 600)`);
  }
  return Math.round(seconds * 1000);
}

/** GIT_HTTP_LOW_SPEED_* for every git command (a lazy fetch in a partial clone talks to the remote too), unless set already. */
export function lowSpeedEnv(env: Record<string, string | undefined>): Record<string, string> {
  if (env['GIT_HTTP_LOW_SPEED_LIMIT'] !== undefined || env['GIT_HTTP_LOW_SPEED_TIME'] !== undefined) return {};
  return { GIT_HTTP_LOW_SPEED_LIMIT: String(LOW_SPEED_LIMIT_BYTES), GIT_HTTP_LOW_SPEED_TIME: String(LOW_SPEED_TIME_S) };
}

/**
 * GIT_SSH_COMMAND with `-o ConnectTimeout` appended to the command git would run anyway: the
 * environment's GIT_SSH_COMMAND, else `core.sshCommand`, else `ssh`. Nothing when the user runs
 * ssh through GIT_SSH (a program, not a command line), when their command is not OpenSSH (a
 * wrapper script may not take `-o`), or when it already sets a ConnectTimeout.
 */
export function sshEnv(env: Record<string, string | undefined>, configured: string | undefined): Record<string, string> {
  const fromEnv = env['GIT_SSH_COMMAND'];
  if (fromEnv === undefined && env['GIT_SSH'] !== undefined) return {};
  const base = (fromEnv ?? configured ?? 'ssh').trim();
  const program = (/^(?:"([^"]*)"|'([^']*)'|(\S+))/.exec(base) ?? [])
    .slice(1)
    .find((p) => p !== undefined);
  const name = (program ?? '').split(/[/\\]/).pop() ?? '';
  if (!/^ssh(?:\.exe)?$/i.test(name) || /connecttimeout/i.test(base)) return {};
  return { GIT_SSH_COMMAND: `${base} -o ConnectTimeout=${SSH_CONNECT_TIMEOUT_S}` };
}

/**
 * Kills `pid` and every process below it (git-remote-http, ssh, index-pack…). Each is stopped
 * first, so none can start another between the listing and the kill; then all are killed.
 * Killing git alone is not enough: a helper blocked on the network keeps running, and keeps the
 * pipes to git's stdout and stderr open, so reading them would wait as long as the helper.
 */
export function killTree(pid: number): void {
  if (process.platform === 'win32') {
    try {
      execFileSync('taskkill', ['/pid', String(pid), '/T', '/F'], { stdio: 'ignore' });
    } catch {
      // already gone
    }
    return;
  }
  const signal = (target: number, name: NodeJS.Signals) => {
    try {
      process.kill(target, name);
    } catch {
      // already gone
    }
  };
  const tree = new Set([pid]);
  for (let round = 0; round < 5; round++) {
    for (const p of tree) signal(p, 'SIGSTOP');
    const before = tree.size;
    for (const p of descendants(pid)) tree.add(p);
    if (tree.size === before) break;
  }
  for (const p of tree) signal(p, 'SIGKILL');
}

/** Parent of every process: from /proc on Linux (no tool needed), else from `ps`. */
function parentTable(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  const add = (pid: number, ppid: number) => {
    if (Number.isInteger(pid) && Number.isInteger(ppid)) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  };
  let entries: string[] | undefined;
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    entries = undefined;
  }
  if (entries !== undefined) {
    for (const name of entries) {
      try {
        // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so read after the last ')'.
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        add(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      } catch {
        // gone meanwhile
      }
    }
    return children;
  }
  try {
    const table = execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    for (const line of table.split('\n')) {
      const [pid, ppid] = line.trim().split(/\s+/).map(Number);
      if (pid !== undefined && ppid !== undefined) add(pid, ppid);
    }
  } catch {
    // no ps: git alone is killed
  }
  return children;
}

function descendants(root: number): number[] {
  const children = parentTable();
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}
