import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { commitStagingLine, layer, REPOSITORY, releaseWorkspace, skopeoDigest, skopeoTags, type ReleaseWorkspace } from '../fixtures.js';
import { runCli } from '../run-cli.js';
import { brokenTags, directClient } from './support.js';

// Publish's crash-and-resume is proven in src/commands/publish-crash.test.ts; this is the staging
// line's push (seed 002): reserve N, build and push every image, create the prerelease.

const bin = fileURLToPath(new URL('../../bin/slipway.js', import.meta.url));

/** Runs slipway as its own process, so a crash point really kills it (SIGKILL: no cleanup at all). */
function slipway(cwd: string, env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [bin, ...args], { cwd, env }, (error, stdout, stderr) => {
      const failure = error as (Error & { code?: number; signal?: string }) | null;
      done({ code: failure ? (typeof failure.code === 'number' ? failure.code : null) : 0, signal: failure?.signal ?? null, stdout, stderr });
    });
  });
}

async function stagingLine(github: boolean): Promise<{ ws: ReleaseWorkspace; sha: string; args: string[] }> {
  const ws = await releaseWorkspace();
  const sha = await commitStagingLine(ws, { github, services: { api: { root: 'apps/api', build: layer('apps/api') }, vault: { root: 'apps/vault', build: layer('apps/vault') } } });
  return { ws, sha, args: ['ci', '--event', 'push', '--ref', 'refs/heads/staging', '--sha', sha, '--json'] };
}

interface StagingOutput {
  result: { version: string; n: number; images: { service: string; digest: string; tags: string[] }[] };
}

describe('a staging push killed between any two steps, then re-run, ends where an uninterrupted push ends', () => {
  it.each([
    ['staging:reserve', true],
    ['push:api', true],
    ['staging:artifact:api', true],
    ['push:vault', true],
    ['staging:artifact:vault', true],
    ['staging:release', true],
    ['staging:reserve', false],
    ['staging:artifact:api', false],
  ] as const)('crash after %s (GitHub: %s)', async (step, github) => {
    const { ws, sha, args } = await stagingLine(github);
    // The uninterrupted result, computed without writing: reproducible builds make it exact.
    const plan = await runCli([...args, '--dry-run'], { cwd: ws.repo.dir, env: ws.env });
    expect(plan.exitCode, plan.stderr).toBe(0);
    const planned = (JSON.parse(plan.stdout) as StagingOutput).result;
    expect(planned.version).toBe('0.3.0-staging.0');

    const crashed = await slipway(ws.repo.dir, { ...ws.env, SLIPWAY_TEST_CRASH_AFTER: step }, args);
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    // Even mid-way, no tag names an image that is not there in full.
    const client = directClient(ws);
    for (const service of ['api', 'vault']) expect(await brokenTags(client, `acme/${service}`)).toEqual([]);

    const rerun = await runCli(args, { cwd: ws.repo.dir, env: ws.env });
    expect(rerun.exitCode, rerun.stderr + rerun.stdout).toBe(0);
    const result = (JSON.parse(rerun.stdout) as StagingOutput).result;

    // Same N (the reservation of the killed run is found and reused, never a second one) ...
    expect(result.version).toBe(planned.version);
    if (github) {
      const refs = [...ws.github.repo(REPOSITORY).refs.entries()].filter(([ref]) => ref.includes('staging'));
      expect(refs.map(([ref, target]) => [ref, target.sha])).toEqual([['refs/tags/0.3.0-staging.0', sha]]);
      // ... one prerelease ...
      expect(ws.github.repo(REPOSITORY).releases.map((r) => [r.tag_name, r.prerelease])).toEqual([['0.3.0-staging.0', true]]);
    } else {
      expect(await ws.repo.git('-C', ws.repo.origin, 'tag', '-l', '0.3.0-staging.*')).toBe('0.3.0-staging.0');
    }
    // ... and the same images under the same tags, as skopeo sees them.
    for (const image of planned.images) {
      const repo = `${ws.registry.host}/acme/${image.service}`;
      expect(await skopeoTags(repo)).toEqual(['0.3.0-staging.0', 'staging']);
      expect(await skopeoDigest(`${repo}:0.3.0-staging.0`)).toBe(image.digest);
      expect(await skopeoDigest(`${repo}:staging`)).toBe(image.digest);
    }
    expect(result.images.map((i) => [i.service, i.digest])).toEqual(planned.images.map((i) => [i.service, i.digest]));
  });
});
