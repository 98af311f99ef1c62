import { readFile } from 'node:fs/promises';
import { parsePin } from '@slipway/pins';
import { describe, expect, it } from 'vitest';
import { REPOSITORY } from '../fixtures.js';
import { runCli } from '../run-cli.js';
import { brokenTags, directClient, expectOperationalFailure, faults, faultyWorkspace, firstMatch, publishedState } from './support.js';

// The registry client's default retry policy (libs/registry/src/retry.ts): 5 attempts, backoff
// steps of 250 ms doubling, each at most 8 s. One idempotent call gives up after at most
// 250 + 500 + 1000 + 2000 ms of backoff; the slowest operation, a blob upload, opens at most 5
// sessions, each followed by a HEAD with that full budget, plus the same backoff between sessions.
const ONE_CALL_BACKOFF_MS = 250 + 500 + 1000 + 2000;
const WORST_OPERATION_MS = 5 * ONE_CALL_BACKOFF_MS + ONE_CALL_BACKOFF_MS;
// Starting git, reading the config and building the layer, on a loaded 2-core machine.
const PROCESS_OVERHEAD_MS = 15_000;
const GIVE_UP_BOUND_MS = WORST_OPERATION_MS + PROCESS_OVERHEAD_MS;

const MAX_RUNS = 12;

describe('the registry asks to slow down', () => {
  it('honours a 429 Retry-After from the registry instead of failing', async () => {
    const f = await faultyWorkspace();
    await f.ws.tagRelease('api/v1.0.0');
    f.registryProxy.setFaults({
      rate: 1,
      kinds: ['429'],
      seed: 1,
      retryAfterSeconds: 1,
      match: firstMatch((r) => r.method === 'HEAD' && r.path.endsWith('/manifests/v1.0.0')),
    });
    const started = Date.now();
    const run = await f.publish('api/v1.0.0');
    expect(run.exitCode, run.stderr).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const heads = f.registryProxy.stats.log.filter((r) => r.method === 'HEAD' && r.path.endsWith('/manifests/v1.0.0'));
    expect(heads[0]?.fault).toBe('429');
    expect(heads[1]).toMatchObject({ fault: null, upstreamStatus: 404 });
  });
});

describe('publish with the upstream down', () => {
  it('registry refusing connections: exit 1 within the retry budget, nothing tagged; once it is back a re-run finishes', async () => {
    const f = await faultyWorkspace();
    await f.ws.tagRelease('api/v1.0.0');
    await f.registryProxy.down();
    const started = Date.now();
    const down = await f.publish('api/v1.0.0');
    const elapsed = Date.now() - started;
    expect(expectOperationalFailure(down)).toMatchObject({ code: 'E_REGISTRY_NETWORK' });
    expect(JSON.parse(down.stdout).error.message).toContain('ECONNREFUSED');
    expect(elapsed).toBeLessThan(GIVE_UP_BOUND_MS);
    expect(f.ws.github.repo(REPOSITORY).releases).toEqual([]);
    expect(f.ws.github.repo(REPOSITORY).dispatches).toEqual([]);

    await f.registryProxy.up();
    const rerun = await f.publish('api/v1.0.0');
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    expect(await brokenTags(directClient(f.ws), 'acme/api')).toEqual([]);
    expect((await publishedState(f.ws, f.manifestPath)).tags).toEqual(['1.0', '1.0.0', 'latest', 'v1.0.0']);
  });

  it('registry dying in the middle of the blob uploads: exit 1 within the budget, no tag written; a re-run finishes', async () => {
    const f = await faultyWorkspace();
    await f.ws.tagRelease('api/v1.0.0');
    let killed = false;
    f.registryProxy.setFaults({
      rate: 1,
      seed: 1,
      match: (r) => {
        // The first blob upload's PUT goes through; from then on the registry is gone.
        if (!killed && r.method === 'PUT' && r.path.includes('/blobs/uploads/')) {
          killed = true;
          setImmediate(() => void f.registryProxy.down());
        }
        return false;
      },
    });
    const started = Date.now();
    const down = await f.publish('api/v1.0.0');
    expect(killed).toBe(true);
    expect(expectOperationalFailure(down).code).toBe('E_REGISTRY_NETWORK');
    expect(Date.now() - started).toBeLessThan(GIVE_UP_BOUND_MS);
    // Tags are written only after every blob and manifest they need: none exists yet.
    const client = directClient(f.ws);
    expect(await client.listTags('acme/api').catch(() => [])).toEqual([]);
    expect(f.ws.github.repo(REPOSITORY).releases).toEqual([]);

    await f.registryProxy.up();
    const rerun = await f.publish('api/v1.0.0');
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    expect(await brokenTags(client, 'acme/api')).toEqual([]);
    expect(await client.listTags('acme/api')).toHaveLength(4);
  });

  it('GitHub refusing connections: exit 1 fast after the image is pushed; a re-run reuses the image and creates one release', async () => {
    const f = await faultyWorkspace();
    await f.ws.tagRelease('api/v1.0.0');
    await f.githubProxy.down();
    const started = Date.now();
    const down = await f.publish('api/v1.0.0');
    expect(expectOperationalFailure(down).code).toBe('E_GITHUB_NETWORK');
    expect(Date.now() - started).toBeLessThan(GIVE_UP_BOUND_MS);
    const pushed = await publishedState(f.ws, f.manifestPath);
    expect(pushed.manifest).toBeNull();

    await f.githubProxy.up();
    const rerun = await f.publish('api/v1.0.0');
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    const result = JSON.parse(rerun.stdout) as { artifacts: { action: string; digest: string }[]; release: { action: string } };
    expect(result.artifacts[0]).toMatchObject({ action: 'unchanged', digest: pushed.digests['v1.0.0'] });
    expect(result.release.action).toBe('created');
    expect(f.ws.github.repo(REPOSITORY).releases).toHaveLength(1);
    expect(f.ws.github.repo(REPOSITORY).dispatches).toHaveLength(1);
  });
});

describe('promote through a registry that fails 25% of requests', () => {
  // Pushes to the pins repository (git) racing other promotions are covered by
  // src/commands/promote-concurrency.test.ts; here the faults are on the registry lookup of --version.
  it('converges to one promotion commit pinning the published digest', async () => {
    const f = await faultyWorkspace();
    await f.ws.tagRelease('api/v1.0.0');
    const published = await f.publish('api/v1.0.0');
    expect(published.exitCode, published.stderr).toBe(0);
    const digest = (JSON.parse(published.stdout) as { artifacts: { digest: string }[] }).artifacts[0]?.digest;

    f.registryProxy.setFaults(faults(21, 0.25));
    const outcomes: string[] = [];
    for (let run = 1; run <= MAX_RUNS; run++) {
      const result = await runCli(['promote', 'api', '--to', 'staging', '--version', '1.0.0', '--json'], { cwd: f.ws.repo.dir, env: f.env });
      outcomes.push(result.exitCode === 0 ? 'ok' : expectOperationalFailure(result).code);
      if (result.exitCode === 0) break;
    }
    expect(outcomes.at(-1), outcomes.join(', ')).toBe('ok');
    // A second promotion of the same digest under faults is a no-op, not a second commit.
    for (let run = 1; run <= MAX_RUNS; run++) {
      const result = await runCli(['promote', 'api', '--to', 'staging', '--version', '1.0.0', '--json'], { cwd: f.ws.repo.dir, env: f.env });
      if (result.exitCode === 0) {
        expect(JSON.parse(result.stdout)).toMatchObject({ status: 'unchanged' });
        break;
      }
      expectOperationalFailure(result);
    }
    const log = (await f.ws.repo.git('-C', f.ws.repo.origin, 'log', '--format=%s', 'main')).split('\n');
    expect(log.filter((s) => s.startsWith('promote'))).toHaveLength(1);
    const pin = parsePin(await f.ws.repo.git('-C', f.ws.repo.origin, 'show', 'main:deploy/staging/api.yaml'));
    expect(pin).toMatchObject({ service: 'api', environment: 'staging', digest, version: '1.0.0' });
    expect(JSON.parse(await readFile(f.manifestPath, 'utf8'))).toMatchObject({ digest });
  });
});
