import { describe, expect, it } from 'vitest';
import { REPOSITORY } from '../fixtures.js';
import { runCli } from '../run-cli.js';
import { directClient, faultyWorkspace } from './support.js';

// GitHub's settings are input like services.json: a missing token or a bad SLIPWAY_GITHUB_TIMEOUT
// stops `publish` with exit 2 before any image is pushed; a good SLIPWAY_GITHUB_TIMEOUT bounds each
// GitHub request attempt, so one that hangs is retried after that many seconds, not after 60.

type ErrorDoc = { error: { code: string; message: string } };

describe('GitHub settings', () => {
  for (const [what, env, says] of [
    ['no token', { GITHUB_TOKEN: '', GH_TOKEN: '' }, 'set GITHUB_TOKEN'],
    ['SLIPWAY_GITHUB_TIMEOUT=soon', { SLIPWAY_GITHUB_TIMEOUT: 'soon' }, 'SLIPWAY_GITHUB_TIMEOUT="soon": expected a positive number of seconds'],
    ['SLIPWAY_GITHUB_TIMEOUT=0', { SLIPWAY_GITHUB_TIMEOUT: '0' }, 'SLIPWAY_GITHUB_TIMEOUT="0"'],
  ] as const) {
    it(`publish with ${what}: exit 2 naming it, nothing pushed, no release`, async () => {
      const f = await faultyWorkspace();
      await f.ws.tagRelease('api/v1.0.0');

      const run = await runCli(['publish', 'api/v1.0.0', '--json'], { cwd: f.ws.repo.dir, env: { ...f.env, ...env } });

      expect(run.exitCode, run.stdout + run.stderr).toBe(2);
      expect((JSON.parse(run.stdout) as ErrorDoc).error.message).toContain(says);
      expect(await directClient(f.ws).listTags('acme/api').catch(() => [])).toEqual([]);
      expect(f.ws.github.repo(REPOSITORY).releases).toHaveLength(0);
    });
  }

  it('SLIPWAY_GITHUB_TIMEOUT=1: a GitHub request that hangs is given up after 1 s and retried; the publish lands once', async () => {
    const f = await faultyWorkspace();
    await f.ws.tagRelease('api/v1.0.0');
    const held = f.githubProxy.hold(({ method, path }) => method === 'GET' && path.includes('/releases/tags/'));

    const started = performance.now();
    const run = await runCli(['publish', 'api/v1.0.0', '--json'], { cwd: f.ws.repo.dir, env: { ...f.env, SLIPWAY_GITHUB_TIMEOUT: '1' } });
    const ms = performance.now() - started;
    held.release();

    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    await held.arrived;
    // The default (60 s per attempt) would still be waiting on the held request.
    expect(ms).toBeLessThan(45_000);
    expect(f.ws.github.repo(REPOSITORY).releases).toHaveLength(1);
  });
});
