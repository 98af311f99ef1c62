// Runs a build engine (docker, podman, buildah) as a child process under a total deadline. The
// engine starts helpers of its own (buildkit clients, conmon, runc, a RUN step's shell), so on
// expiry the whole process group is killed, not only the engine: a hung build must not keep the
// runner busy. Output is kept as a bounded tail: a build log can be gigabytes.

import { spawn } from 'node:child_process';

export interface CommandResult {
  exitCode: number;
  /** The last `OUTPUT_TAIL_BYTES` of stdout. */
  stdout: string;
  /** The last `OUTPUT_TAIL_BYTES` of stderr. */
  stderr: string;
  /** stdout and stderr interleaved as they came, last `OUTPUT_TAIL_BYTES`: the readable log tail. */
  output?: string;
  /** The deadline passed and the process group was killed. */
  timedOut?: boolean;
}

export interface RunOptions {
  /** The child's whole environment; default this process's. */
  env?: Record<string, string | undefined>;
  /** Total deadline in milliseconds; on expiry the process group gets SIGTERM, then SIGKILL. */
  timeoutMs?: number;
}

/**
 * Runs a program to completion. Resolves with its exit code (non-zero included) or `timedOut`;
 * rejects only when the program cannot be started, with the spawn error (`code: 'ENOENT'` when it
 * is not installed).
 */
export type CommandRunner = (file: string, args: readonly string[], options?: RunOptions) => Promise<CommandResult>;

export const OUTPUT_TAIL_BYTES = 64 * 1024;
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** Between SIGTERM and SIGKILL: time for an engine to remove its temporary containers. */
const KILL_GRACE_MS = 3000;

class Tail {
  private chunks: Buffer[] = [];
  private bytes = 0;
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    while (this.bytes - (this.chunks[0]?.length ?? 0) >= OUTPUT_TAIL_BYTES) this.bytes -= this.chunks.shift()?.length ?? 0;
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - OUTPUT_TAIL_BYTES)).toString('utf8');
  }
}

export const processRunner: CommandRunner = (file, args, options = {}) =>
  new Promise((resolve, reject) => {
    // A process group of its own (detached), so a deadline can kill the engine and everything it started.
    const child = spawn(file, [...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: options.env ?? process.env });
    const out = new Tail();
    const err = new Tail();
    const both = new Tail();
    child.stdout.on('data', (chunk: Buffer) => (out.push(chunk), both.push(chunk)));
    child.stderr.on('data', (chunk: Buffer) => (err.push(chunk), both.push(chunk)));

    let timedOut = false;
    let settled = false;
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    // If slipway itself exits (an error elsewhere, process.exit), the engine must not outlive it.
    const onExit = () => killGroup('SIGKILL');
    process.once('exit', onExit);
    // Nor when slipway is stopped by a signal (Ctrl-C, a cancelled CI job): the engine's group does
    // not get the terminal's or the runner's signal, so pass it on, then let it stop slipway as it
    // would have (re-raised once no handler of ours is left).
    const onSignal = (signal: NodeJS.Signals) => {
      killGroup(signal);
      removeSignalHandlers();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    const removeSignalHandlers = () => {
      for (const signal of FORWARDED_SIGNALS) process.removeListener(signal, onSignal);
    };
    for (const signal of FORWARDED_SIGNALS) process.once(signal, onSignal);
    const timers: NodeJS.Timeout[] = [];
    const finish = (exitCode: number) => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      process.removeListener('exit', onExit);
      removeSignalHandlers();
      resolve({ exitCode, stdout: out.text(), stderr: err.text(), output: both.text(), ...(timedOut ? { timedOut } : {}) });
    };
    if (options.timeoutMs !== undefined) {
      timers.push(
        setTimeout(() => {
          timedOut = true;
          killGroup('SIGTERM');
          timers.push(
            setTimeout(() => {
              killGroup('SIGKILL');
              // A helper that left the group may still hold the pipes: stop waiting for them.
              child.stdout.destroy();
              child.stderr.destroy();
              finish(child.exitCode ?? 137);
            }, KILL_GRACE_MS),
          );
        }, Math.max(0, options.timeoutMs)),
      );
    }
    child.once('error', (error) => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      process.removeListener('exit', onExit);
      removeSignalHandlers();
      reject(error);
    });
    child.once('close', (code, signal) => {
      // The engine is gone; helpers it left in its group are not wanted either.
      if (timedOut) killGroup('SIGKILL');
      finish(code ?? (signal ? 128 : 1));
    });
  });
