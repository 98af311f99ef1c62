import { createTempRepo, startFaultProxy, startGitHubDouble } from '@slipway/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { GITHUB_TOKEN, REPOSITORY } from '../fixtures.js';
import { runCli } from '../run-cli.js';
import {
  brokenTags,
  cleanWorkspace,
  directClient,
  expectOperationalFailure,
  faults,
  faultyWorkspace,
  normalize,
  firstMatch,
  publishedState,
} from './support.js';

/** Exit 1 means "safe to retry" (CONTRACT §3): a CI job re-runs until it is done. */
const MAX_RUNS = 12;

describe('publish through a registry and a GitHub that fail 25% of requests', () => {
  it.each([
    [11, 12],
    [23, 24],
    [35, 36],
  ])('seeds %i/%i: converges by re-running, never shows a tag of a half-pushed image, and ends where a clean run ends', async (registrySeed, githubSeed) => {
    const clean = await cleanWorkspace();
    await clean.ws.tagRelease('api/v1.0.0');
    const cleanRun = await runCli(['publish', 'api/v1.0.0', '--manifest', clean.manifestPath, '--json'], { cwd: clean.ws.repo.dir, env: clean.env });
    expect(cleanRun.exitCode, cleanRun.stderr).toBe(0);
    const expected = await publishedState(clean.ws, clean.manifestPath);

    const f = await faultyWorkspace();
    const commit = await f.ws.tagRelease('api/v1.0.0');
    // What the image must be: a dry run computes the reproducible layer build's digest, writing nothing.
    const planned = await f.publish('api/v1.0.0', ['--dry-run']);
    expect(planned.exitCode, planned.stderr).toBe(0);
    const digest = (JSON.parse(planned.stdout) as { artifacts: { digest: string }[] }).artifacts[0]?.digest;
    expect(digest).toMatch(/^sha256:/);

    f.registryProxy.setFaults(faults(registrySeed));
    f.githubProxy.setFaults(faults(githubSeed));
    const client = directClient(f.ws);
    const outcomes: string[] = [];
    for (let run = 1; run <= MAX_RUNS; run++) {
      const result = await f.publish('api/v1.0.0');
      outcomes.push(result.exitCode === 0 ? 'ok' : expectOperationalFailure(result).code);
      // After every run, done or not: a tag that exists names an image that is there in full,
      // it names our digest, and there is at most one release.
      expect(await brokenTags(client, 'acme/api')).toEqual([]);
      for (const tag of await client.listTags('acme/api').catch(() => [])) expect((await client.resolve('acme/api', tag))?.digest).toBe(digest);
      expect(f.ws.github.repo(REPOSITORY).releases.length).toBeLessThanOrEqual(1);
      if (result.exitCode === 0) break;
    }
    const injected = [...Object.values(f.registryProxy.stats.faults), ...Object.values(f.githubProxy.stats.faults)].reduce((a, b) => a + b, 0);
    expect(outcomes.at(-1), `${outcomes.join(', ')}; ${String(injected)} faults injected`).toBe('ok');
    // The faults were real: a quarter of some forty registry requests per run.
    expect(injected).toBeGreaterThanOrEqual(5);

    const actual = await publishedState(f.ws, f.manifestPath);
    // skopeo, an independent client, sees every tag at the planned digest, and nothing else.
    expect(actual.tags).toEqual(expected.tags);
    expect(actual.vaultTags).toEqual([]);
    for (const tag of actual.tags) expect(actual.digests[tag], tag).toBe(digest);
    // One release, same notes as the clean run; the manifest says what the registry holds.
    expect(actual.releases).toHaveLength(1);
    expect(actual.releases[0]).toMatchObject({ tag: 'api/v1.0.0', prerelease: false, target: commit });
    expect(normalize(actual.releases[0]?.body)).toBe(normalize(expected.releases[0]?.body));
    expect(actual.manifest).toMatchObject({ digest, commit, tag: 'api/v1.0.0', tags: ['v1.0.0', '1.0.0', '1.0', 'latest'] });
    const stable = (m: Record<string, unknown> | null) => ({ ...m, commit: undefined, createdAt: undefined, digest: undefined, image: undefined });
    expect(stable(actual.manifest)).toEqual(stable(expected.manifest));
    // At least once, always by the right digest; a lost response may repeat it, never vary it.
    expect(actual.dispatches.length).toBeGreaterThanOrEqual(1);
    expect(new Set(actual.dispatches.map((d) => d.digest))).toEqual(new Set([digest]));

    // Done is done: one more run without faults changes nothing.
    f.registryProxy.setFaults(null);
    f.githubProxy.setFaults(null);
    const again = await f.publish('api/v1.0.0');
    expect(again.exitCode, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ artifacts: [{ action: 'unchanged', digest }], release: { action: 'unchanged' }, dispatched: false });
    expect(await publishedState(f.ws, f.manifestPath)).toEqual(actual);
  });

  it.each([
    ['registry', 'PUT', 'the image manifest by digest', /\/manifests\/sha256:/],
    ['registry', 'PUT', 'the immutable tag', /\/manifests\/v1\.0\.0$/],
    ['registry', 'PUT', 'a floating tag', /\/manifests\/latest$/],
    ['github', 'POST', 'creating the release', /\/releases$/],
    ['github', 'POST', 'the deploy dispatch', /\/dispatches$/],
    ['github', 'PATCH', 'recording the dispatch on the release', /\/releases\/\d+$/],
  ] as const)('a %s %s whose response is lost after it applied (%s) ends in the same single result', async (peer, method, _what, path) => {
    const f = await faultyWorkspace();
    await f.ws.tagRelease('api/v1.0.0');
    const proxy = peer === 'registry' ? f.registryProxy : f.githubProxy;
    proxy.setFaults({ rate: 1, kinds: ['lost'], seed: 1, match: firstMatch((r) => r.method === method && path.test(r.path.split('?')[0] ?? '')) });

    const runs: number[] = [];
    for (let run = 1; run <= 3 && runs.at(-1) !== 0; run++) {
      const result = await f.publish('api/v1.0.0');
      if (result.exitCode !== 0) expectOperationalFailure(result);
      runs.push(result.exitCode);
    }
    expect(proxy.stats.faults.lost).toBe(1);
    expect(runs.at(-1)).toBe(0);
    // Both adapters retry within the run: a repeated GitHub create reads back what its 422 names, a repeated PATCH sends the same body.
    expect(runs).toEqual([0]);
    const state = await publishedState(f.ws, f.manifestPath);
    expect(state.tags).toEqual(['1.0', '1.0.0', 'latest', 'v1.0.0']);
    expect(await brokenTags(directClient(f.ws), 'acme/api')).toEqual([]);
    expect(state.releases).toHaveLength(1);
    expect(state.manifest).toMatchObject({ digest: state.digests['v1.0.0'] });
    // At least once: only a dispatch whose answer was lost is sent again.
    expect(state.dispatches).toHaveLength(path.source.includes('dispatches') ? 2 : 1);
  });
});

describe('reserve through a GitHub that fails or loses the create', () => {
  async function stagingRepo() {
    const github = await startGitHubDouble({ tokens: [GITHUB_TOKEN] });
    onTestFinished(() => github.close());
    const proxy = await startFaultProxy({ target: github.url });
    onTestFinished(() => proxy.stop());
    const config = { repository: REPOSITORY, scheme: 'staging-line', registry: 'oci-layout:.images', services: { api: { root: 'apps/api' } } };
    const repo = await createTempRepo({ files: { 'services.json': JSON.stringify(config), 'package.json': JSON.stringify({ version: '3.1.0' }) } });
    onTestFinished(repo.cleanup);
    github.repo(REPOSITORY, { origin: repo.dir });
    const env = { PATH: process.env['PATH'], NO_COLOR: '1', GITHUB_TOKEN, GITHUB_API_URL: proxy.url, HOME: repo.root, ...repo.env };
    const reserve = () => runCli(['reserve', 'api', '--json'], { cwd: repo.dir, env });
    return { github, proxy, repo, reserve };
  }
  const createRef = (r: { method: string; path: string }) => r.method === 'POST' && r.path.endsWith('/git/refs');

  it('a create whose response is lost after GitHub made the tag: the retried create finds its own tag and wins N, no second tag', async () => {
    const { github, proxy, repo, reserve } = await stagingRepo();
    const commit = await repo.commit('feat: a', { a: '1' });
    proxy.setFaults({ rate: 1, kinds: ['lost'], seed: 1, match: firstMatch(createRef) });

    // The adapter repeats the create; GitHub's 422 names our commit, so the reservation is ours.
    const first = await reserve();
    expect(first.exitCode, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ version: '3.1.0-staging.0', n: 0, created: true, commit });
    expect(proxy.stats.faults.lost).toBe(1);

    // origin's tags (the hint) do not show it; the atomic create answers "exists, at your commit".
    const again = await reserve();
    expect(again.exitCode, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ version: '3.1.0-staging.0', n: 0, created: false, commit });
    expect([...github.repo(REPOSITORY).refs.keys()]).toEqual(['refs/tags/3.1.0-staging.0']);
  });

  it('a create refused with 503 before GitHub saw it: retried within the run, reserved once', async () => {
    const { github, proxy, reserve } = await stagingRepo();
    proxy.setFaults({ rate: 1, kinds: ['503'], seed: 1, match: firstMatch(createRef) });
    const first = await reserve();
    expect(first.exitCode, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ version: '3.1.0-staging.0', created: true });
    expect(proxy.stats.faults['503']).toBe(1);
    expect(github.repo(REPOSITORY).refs.size).toBe(1);
  });

  it('a GitHub that keeps failing: exit 1 within a bounded time after 4 tries, nothing reserved', async () => {
    const { github, proxy, reserve } = await stagingRepo();
    proxy.setFaults({ rate: 1, kinds: ['503'], seed: 1, match: createRef });
    const started = Date.now();
    const first = await reserve();
    expect(expectOperationalFailure(first).code).toBe('E_GITHUB_SERVER');
    expect(proxy.stats.faults['503']).toBe(4);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(github.repo(REPOSITORY).refs.size).toBe(0);
  });
});
