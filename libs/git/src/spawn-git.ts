// One git process, with node:child_process alone. A child-process library (execa, 127 KB with
// its dependencies) took 44 ms of a `slipway check` to load; what git needs from it is small:
// collect stdout and stderr, feed stdin, bound the output, and stop git when Slipway stops.

import { spawn, type ChildProcess } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { killTree } from './remote-limits.js';

/** Output beyond this (per stream) stops git: a runaway command must not take all memory. */
export const MAX_OUTPUT_BYTES = 1024 * 1024 * 1024;

export interface GitProcessOptions {
  cwd: string;
  /** Merged over process.env; an undefined value removes the variable. */
  env: Record<string, string | undefined>;
  /** Written to stdin, which is closed after it; without it stdin is /dev/null. */
  input?: string | undefined;
}

export interface GitProcessResult {
  /** git's exit status; undefined when it did not start, or was stopped by a signal. */
  status: number | undefined;
  stdout: Uint8Array;
  stderr: Uint8Array;
  /** Why there is no status: "git is not installed…", "killed by SIGKILL", … (may hold the cwd; redact before showing). */
  failure: string | undefined;
}

export interface GitProcess {
  /** Undefined when git could not be started. */
  pid: number | undefined;
  result: Promise<GitProcessResult>;
}

/** Starts `git args`; `result` never rejects. */
export function startGit(args: readonly string[], { cwd, env, input }: GitProcessOptions): GitProcess {
  let child: ChildProcess;
  try {
    child = spawn('git', args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
  } catch (error) {
    // Arguments spawn refuses outright (a NUL byte): no process, no status.
    return { pid: undefined, result: Promise.resolve({ status: undefined, stdout: EMPTY, stderr: EMPTY, failure: (error as Error).message }) };
  }
  track(child);
  const result = new Promise<GitProcessResult>((resolve) => {
    const stdout = collect(child, 'stdout');
    const stderr = collect(child, 'stderr');
    let settled = false;
    const finish = (status: number | undefined, failure: string | undefined) => {
      if (settled) return;
      settled = true;
      untrack(child);
      const overflow = stdout.overflow || stderr.overflow;
      resolve({
        status: overflow ? undefined : status,
        stdout: stdout.bytes(),
        stderr: stderr.bytes(),
        failure: overflow ? `git wrote more than ${MAX_OUTPUT_BYTES / 1024 ** 3} GiB and was stopped` : failure,
      });
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      // Not started (no git, no cwd): 'close' may never come. Started: an error killing it, which 'close' follows.
      if (child.pid !== undefined) return;
      void notStarted(error, cwd).then((reason) => finish(undefined, reason));
    });
    child.once('close', (code, signal) => {
      if (child.pid === undefined) return;
      finish(code ?? undefined, code === null ? `git was killed by ${signal ?? 'a signal'}` : undefined);
    });
    if (input !== undefined && child.stdin) {
      // git may exit without reading all of it; its status and stderr tell why.
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    }
  });
  return { pid: child.pid, result };
}

const EMPTY = new Uint8Array(0);

/** Bytes as UTF-8 text, without copying them. */
export function text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

function collect(child: ChildProcess, name: 'stdout' | 'stderr') {
  const chunks: Buffer[] = [];
  let size = 0;
  const state = {
    overflow: false,
    bytes: () => (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)),
  };
  child[name]?.on('data', (chunk: Buffer) => {
    if (state.overflow) return;
    size += chunk.length;
    if (size > MAX_OUTPUT_BYTES) {
      state.overflow = true;
      chunks.length = 0;
      size = 0;
      child.kill('SIGKILL');
      return;
    }
    chunks.push(chunk);
  });
  return state;
}

/** "spawn git ENOENT" says the same for a missing git and a missing folder: tell them apart. */
async function notStarted(error: NodeJS.ErrnoException, cwd: string): Promise<string> {
  if (error.code === 'ENOENT') {
    const folder = await stat(cwd).then(
      (s) => s.isDirectory(),
      () => false,
    );
    return folder ? `git is not installed or not on PATH (${error.message})` : `the folder ${cwd} does not exist (${error.message})`;
  }
  return error.message;
}

// git must not outlive Slipway: on exit, or when a signal stops it (Ctrl-C, a cancelled CI job;
// git started by Slipway is in its process group, but a signal sent to Slipway's pid alone is
// not), the git processes still running are killed with everything they started — a signal to
// git alone leaves git-remote-http or ssh holding the connection. The handlers are there only
// while git runs.
const live = new Set<ChildProcess>();
const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function stopAll(): void {
  for (const child of live) if (child.pid !== undefined) killTree(child.pid);
}

const onExit = () => stopAll();
const onSignal = (signal: NodeJS.Signals) => {
  stopAll();
  removeHandlers();
  // Stop Slipway as the signal would have, unless someone else handles it.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
};

function removeHandlers(): void {
  process.removeListener('exit', onExit);
  for (const signal of SIGNALS) process.removeListener(signal, onSignal);
}

function track(child: ChildProcess): void {
  if (live.size === 0) {
    process.once('exit', onExit);
    for (const signal of SIGNALS) process.once(signal, onSignal);
  }
  live.add(child);
}

function untrack(child: ChildProcess): void {
  if (!live.delete(child)) return;
  if (live.size === 0) removeHandlers();
}
