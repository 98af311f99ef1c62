import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempRepo, startGitHubDouble } from '@slipway/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { GITHUB_TOKEN, REPOSITORY, skopeoDigest, skopeoTags } from '../fixtures.js';
import { runCli } from '../run-cli.js';
import { brokenTags, directClient, faultyWorkspace } from './support.js';

// 8 parallel promotions (8 processes, 8 clones, one pins origin) are proven in
// src/commands/promote-concurrency.test.ts; reservations with 8 racers in src/commands/reserve.test.ts.

const RACERS = 16;

async function stagingRepo(github: boolean) {
  const double = await startGitHubDouble({ tokens: [GITHUB_TOKEN] });
  onTestFinished(() => double.close());
  const config = {
    ...(github ? { repository: REPOSITORY } : {}),
    scheme: 'staging-line',
    registry: 'oci-layout:.images',
    services: { api: { root: 'apps/api' } },
  };
  const repo = await createTempRepo({ files: { 'services.json': JSON.stringify(config), 'package.json': JSON.stringify({ version: '2.0.0' }) } });
  onTestFinished(repo.cleanup);
  double.repo(REPOSITORY, { origin: repo.dir });
  const env = { PATH: process.env['PATH'], NO_COLOR: '1', GITHUB_TOKEN, GITHUB_API_URL: double.url, HOME: repo.root, ...repo.env };
  return { repo, double, env };
}

interface Reserved {
  n: number;
  version: string;
  commit: string;
  created: boolean;
}

describe(`${RACERS} reservations at once get ${RACERS} distinct numbers`, () => {
  it('through GitHub refs (one workspace, 16 commits)', async () => {
    const { repo, double, env } = await stagingRepo(true);
    const commits: string[] = [];
    for (let i = 0; i < RACERS; i++) commits.push(await repo.commit(`feat: change ${String(i)}`, { [`f${String(i)}`]: String(i) }));

    const runs = await Promise.all(commits.map((c) => runCli(['reserve', 'api', '--commit', c, '--json'], { cwd: repo.dir, env })));

    const results = runs.map((r) => {
      expect(r.exitCode, r.stderr + r.stdout).toBe(0);
      return JSON.parse(r.stdout) as Reserved;
    });
    expect(results.map((r) => r.n).sort((a, b) => a - b)).toEqual(Array.from({ length: RACERS }, (_, i) => i));
    expect(results.map((r) => r.commit).sort()).toEqual([...commits].sort());
    const refs = double.repo(REPOSITORY).refs;
    expect(refs.size).toBe(RACERS);
    for (const r of results) expect(refs.get(`refs/tags/${r.version}`)?.sha).toBe(r.commit);

    // Each racer again, all at once: every one gets its own N back, nothing new is created.
    const again = await Promise.all(commits.map((c) => runCli(['reserve', 'api', '--commit', c, '--json'], { cwd: repo.dir, env })));
    const second = again.map((r) => JSON.parse(r.stdout) as Reserved);
    expect(second.map((r) => [r.commit, r.n, r.created])).toEqual(results.map((r) => [r.commit, r.n, false]));
    expect(refs.size).toBe(RACERS);
  });

  it('through git pushes to origin (16 clones, as 16 CI jobs)', async () => {
    const { repo, env } = await stagingRepo(false);
    const clones = await Promise.all(Array.from({ length: RACERS }, (_, i) => repo.clone(`job-${String(i)}`)));
    const commits = await Promise.all(clones.map((c, i) => c.commit(`feat: job ${String(i)}`, { [`job${String(i)}`]: 'x' })));

    const runs = await Promise.all(clones.map((c) => runCli(['reserve', 'api', '--json'], { cwd: c.dir, env })));

    const ns = runs.map((r, i) => {
      expect(r.exitCode, r.stderr + r.stdout).toBe(0);
      const result = JSON.parse(r.stdout) as Reserved;
      expect(result.commit).toBe(commits[i]);
      return result.n;
    });
    expect([...ns].sort((a, b) => a - b)).toEqual(Array.from({ length: RACERS }, (_, i) => i));
    const origin = await repo.git('-C', repo.origin, 'for-each-ref', '--format=%(refname:short) %(objectname)', 'refs/tags');
    expect(origin.split('\n').sort()).toEqual(ns.map((n, i) => `2.0.0-staging.${String(n)} ${commits[i] ?? ''}`).sort());
  }, 120_000);
});

describe('two publishes of the same tag at once (two CI jobs, two clones)', () => {
  it('one result: both succeed, one image per tag, one release, equal manifests', async () => {
    const f = await faultyWorkspace();
    const commit = await f.ws.tagRelease('api/v1.0.0');
    const jobs = await Promise.all([f.ws.repo.clone('job-a'), f.ws.repo.clone('job-b')]);
    const manifests = jobs.map((job) => join(job.dir, 'manifest.json'));

    const runs = await Promise.all(
      jobs.map((job, i) => runCli(['publish', 'api/v1.0.0', '--manifest', manifests[i] ?? '', '--json'], { cwd: job.dir, env: f.env })),
    );

    // Both exit 0 (the loser finds the same image and the same release), or one reports the no-op.
    for (const run of runs) expect(run.exitCode, run.stderr + run.stdout).toBe(0);
    const results = runs.map((r) => JSON.parse(r.stdout) as { artifacts: { digest: string; action: string }[]; release: { action: string } });
    const digest = results[0]?.artifacts[0]?.digest;
    expect(results[1]?.artifacts[0]?.digest).toBe(digest);
    expect(results.map((r) => r.release.action).sort()).toEqual(expect.arrayContaining(['created']));
    expect(results.filter((r) => r.release.action === 'created')).toHaveLength(1);

    const host = f.ws.registry.host;
    expect(await skopeoTags(`${host}/acme/api`)).toEqual(['1.0', '1.0.0', 'latest', 'v1.0.0']);
    for (const tag of ['v1.0.0', '1.0.0', '1.0', 'latest']) expect(await skopeoDigest(`${host}/acme/api:${tag}`)).toBe(digest);
    expect(await brokenTags(directClient(f.ws), 'acme/api')).toEqual([]);
    const repo = f.ws.github.repo(REPOSITORY);
    expect(repo.releases.map((r) => [r.tag_name, r.target_commitish])).toEqual([['api/v1.0.0', commit]]);
    // At least once: two jobs may both dispatch before either records it; always the same digest.
    expect(repo.dispatches.length).toBeGreaterThanOrEqual(1);
    expect(repo.dispatches.every((d) => d.client_payload['digest'] === digest)).toBe(true);
    const written = await Promise.all(manifests.map(async (m) => JSON.parse(await readFile(m, 'utf8')) as Record<string, unknown>));
    expect({ ...written[0], createdAt: undefined }).toEqual({ ...written[1], createdAt: undefined });
    expect(written[0]).toMatchObject({ digest, commit, tag: 'api/v1.0.0' });
  });
});

describe('floating tags under overlapping publishes', () => {
  it('a slow publish of 3.0.1 overlapping a fast one of 3.0.2 leaves latest and 3.0 on 3.0.2', async () => {
    const f = await faultyWorkspace();
    const { ws } = f;
    await ws.repo.commit('fix(api): 3.0.1', { 'apps/api/server.js': 'console.log("3.0.1")\n' });
    await ws.repo.push('main');
    await ws.tagRelease('api/v3.0.1');

    // 3.0.1 decides from the tags it sees (3.0.2 does not exist yet); its first floating write is
    // held in the proxy until 3.0.2 has been published in full.
    const held = f.registryProxy.hold(({ method, path }) => method === 'PUT' && path === '/v2/acme/api/manifests/3.0');
    const slow = runCli(['publish', 'api/v3.0.1', '--json'], { cwd: ws.repo.dir, env: f.env });
    await held.arrived;

    await ws.repo.commit('fix(api): 3.0.2', { 'apps/api/server.js': 'console.log("3.0.2")\n' });
    await ws.repo.push('main');
    await ws.tagRelease('api/v3.0.2');
    const fast = await runCli(['publish', 'api/v3.0.2', '--json'], { cwd: ws.repo.dir, env: f.env });
    expect(fast.exitCode, fast.stderr + fast.stdout).toBe(0);
    held.release();
    const slowRun = await slow;
    expect(slowRun.exitCode, slowRun.stderr + slowRun.stdout).toBe(0);

    // skopeo, reading the registry directly, is the witness.
    const image = `${ws.registry.host}/acme/api`;
    const newest = await skopeoDigest(`${image}:v3.0.2`);
    const older = await skopeoDigest(`${image}:v3.0.1`);
    expect(newest).toMatch(/^sha256:/);
    expect(older).not.toBe(newest);
    expect(await skopeoDigest(`${image}:latest`)).toBe(newest);
    expect(await skopeoDigest(`${image}:3.0`)).toBe(newest);
    // The slow run reports only the tags that name its image.
    expect(JSON.parse(slowRun.stdout).artifacts[0].tags).toEqual(['v3.0.1', '3.0.1']);
  });
});
