import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPOSITORY, releaseWorkspace, skopeoDigest, skopeoTags, type ReleaseWorkspace } from '../../test/fixtures.js';

const bin = fileURLToPath(new URL('../../bin/slipway.js', import.meta.url));

/** Runs slipway as its own process, so a crash point really kills it. */
function slipway(ws: ReleaseWorkspace, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [bin, ...args], { cwd: ws.repo.dir, env: { ...ws.env, ...env } }, (error, _stdout, stderr) => {
      const failure = error as (Error & { code?: number; signal?: string }) | null;
      done({ code: failure ? (typeof failure.code === 'number' ? failure.code : null) : 0, signal: failure?.signal ?? null, stderr });
    });
  });
}

async function state(ws: ReleaseWorkspace) {
  const host = ws.registry.host;
  const repo = ws.github.repo(REPOSITORY);
  return {
    tags: await skopeoTags(`${host}/acme/api`),
    digest: await skopeoDigest(`${host}/acme/api:v1.0.0`),
    releases: repo.releases.map((r) => ({ tag: r.tag_name, prerelease: r.prerelease, body: r.body })),
    dispatches: repo.dispatches.length,
    manifest: JSON.parse(await readFile(join(ws.repo.root, 'manifest.json'), 'utf8').catch(() => 'null')),
  };
}

async function workspace() {
  const ws = await releaseWorkspace({ dispatch: { eventType: 'deploy' }, repository: REPOSITORY });
  await ws.tagRelease('api/v1.0.0');
  return ws;
}

const args = (ws: ReleaseWorkspace) => ['publish', 'api/v1.0.0', '--manifest', join(ws.repo.root, 'manifest.json')];

describe('publish: a crash between any two steps, then a re-run, ends where a clean run ends', () => {
  it.each(['checks', 'push:api', 'artifact:api', 'release', 'manifest', 'dispatch'])('crash after %s', async (step) => {
    const clean = await workspace();
    expect((await slipway(clean, args(clean))).code).toBe(0);
    const expected = await state(clean);

    const ws = await workspace();
    const crashed = await slipway(ws, args(ws), { SLIPWAY_TEST_CRASH_AFTER: step });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    const rerun = await slipway(ws, args(ws));
    expect(rerun.code, rerun.stderr).toBe(0);
    const actual = await state(ws);

    // Same image (reproducible build), one release with the same notes, one manifest; the deploy
    // is dispatched at least once (twice only when the crash fell between dispatch and its record).
    expect(actual.tags).toEqual(expected.tags);
    // Each workspace has its own registry port in services.json, so commits (and digests) differ
    // between the two runs; within a run the tag must hold the manifest's digest.
    expect(actual.digest).toBe(actual.manifest.digest);
    expect(expected.digest).toBe(expected.manifest.digest);
    expect(actual.releases.map((r) => r.tag)).toEqual(['api/v1.0.0']);
    const normalize = (body: string | null | undefined) => body?.replace(/sha256:[0-9a-f]{64}|[0-9a-f]{40}|\b[0-9a-f]{7}\b|127\.0\.0\.1:\d+/g, '…');
    expect(normalize(actual.releases[0]?.body)).toBe(normalize(expected.releases[0]?.body));
    expect(actual.dispatches).toBe(step === 'dispatch' ? 2 : 1);
    const stable = (m: Record<string, unknown>) => ({ ...m, commit: undefined, createdAt: undefined, digest: undefined, image: undefined });
    expect(stable(actual.manifest)).toEqual(stable(expected.manifest));
  });
});
