import { PassThrough } from 'node:stream';
import { run } from '../src/cli.js';
import type { ExitCode } from '../src/exit-codes.js';

export interface CliRun {
  exitCode: ExitCode;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured streams, as a user's shell would see it. */
export async function runCli(argv: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  stdout.on('data', (c: Buffer) => chunks.out.push(c));
  stderr.on('data', (c: Buffer) => chunks.err.push(c));
  const exitCode = await run(argv, {
    stdout,
    stderr,
    env: options.env ?? { PATH: process.env['PATH'], NO_COLOR: '1' },
    cwd: options.cwd ?? process.cwd(),
  });
  return { exitCode, stdout: Buffer.concat(chunks.out).toString('utf8'), stderr: Buffer.concat(chunks.err).toString('utf8') };
}
