import { PassThrough } from 'node:stream';
import { run } from '../src/cli.js';
import type { ExitCode } from '../src/exit-codes.js';
import { environmentSecrets } from '../src/safe-text.js';

/**
 * Secrets the test workspaces carry (fixtures.ts plants them: userinfo in GITHUB_API_URL, a
 * GHCR_TOKEN). Every run below is searched for them and for the secrets of its environment, so
 * the whole CLI suite, not one test, proves that slipway never prints one.
 */
export const PLANTED = { apiUser: 'planted-api-user', apiPassword: 'planted-api-password-Wq3Rt8', ghcrToken: 'planted-ghcr-token-Yu6Io2Lk' };

/** `url` with the planted userinfo, as a CI might set GITHUB_API_URL. */
export const withPlantedUserinfo = (url: string) => url.replace('://', `://${PLANTED.apiUser}:${PLANTED.apiPassword}@`);

function assertNoSecrets(argv: readonly string[], env: NodeJS.ProcessEnv, outputs: string[]): void {
  const secrets = [...Object.values(PLANTED), ...environmentSecrets(env)].filter((s) => s.length >= 8);
  for (const text of outputs) {
    for (const secret of secrets) {
      if (text.includes(secret)) throw new Error(`slipway ${argv.join(' ')} printed a secret (${secret.slice(0, 4)}…):\n${text}`);
    }
  }
}

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
  const result = { exitCode, stdout: Buffer.concat(chunks.out).toString('utf8'), stderr: Buffer.concat(chunks.err).toString('utf8') };
  assertNoSecrets(argv, options.env ?? {}, [result.stdout, result.stderr]);
  return result;
}
