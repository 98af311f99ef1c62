import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parsePin } from '@slipway/pins';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { layer, REPOSITORY, releaseWorkspace, skopeoDigest, skopeoTags, type ReleaseWorkspace } from '../fixtures.js';
import { simulate, type JobRun, type SimEvent } from './simulate.js';
import { WORKFLOW_DIR } from './workflow-files.js';

// Issue 20: each documented workflow, run step by step on a temp workspace with a bare origin, the
// real registry and the GitHub double, the way Actions would run it; outcomes are read from the
// registry (skopeo), the origin's git refs and the pin files, never from the workflow's own words.

// Every step runs the real CLI in its own process, as Actions does: minutes, not seconds, on a busy machine.
const SLOW = { timeout: 300_000 };

const workflow = (name: string) => join(WORKFLOW_DIR, name);

function setupOf(ws: ReleaseWorkspace, nxBase?: string) {
  return { origin: ws.repo.origin, root: ws.repo.root, repository: REPOSITORY, env: ws.env, ...(nxBase ? { nxBase } : {}) };
}

async function run(ws: ReleaseWorkspace, file: string, event: SimEvent, nxBase?: string): Promise<JobRun[]> {
  return simulate(workflow(file), event, setupOf(ws, nxBase));
}

const ok = (runs: JobRun[], job: string): JobRun => {
  const found = runs.find((r) => r.job === job);
  expect(found?.result, `${job}:${runs.map((r) => r.log).join('\n')}`).toBe('success');
  return found as JobRun;
};

const originFile = async (ws: ReleaseWorkspace, path: string) => {
  const shown = await execa('git', ['-C', ws.repo.origin, 'show', `main:${path}`], { env: ws.repo.env, reject: false });
  return shown.exitCode === 0 ? shown.stdout : undefined;
};
const originTags = async (ws: ReleaseWorkspace) => (await ws.repo.git('-C', ws.repo.origin, 'tag', '--list')).split('\n').filter(Boolean).sort();

const ENVIRONMENTS = {
  environments: { staging: {}, production: { after: 'staging', approvals: 1, approvers: ['release-manager'] } },
  pins: { repo: '.', path: 'deploy/{environment}/{service}.yaml', format: 'pin' },
};

describe('release.yml (per-service tags) through the publish composite action', () => {
  it('a service tag publishes that image, verified by skopeo, with the release and the manifest artifact', SLOW, async () => {
    const ws = await releaseWorkspace(ENVIRONMENTS);
    const commit = await ws.tagRelease('api/v1.0.0');
    const image = `${ws.registry.host}/acme/api`;

    const runs = await run(ws, 'release.yml', { name: 'push', ref: 'refs/tags/api/v1.0.0', sha: commit });
    const publish = ok(runs, 'publish');
    const digest = await skopeoDigest(`${image}:v1.0.0`);
    expect(digest).toMatch(/^sha256:/);
    expect(publish.outputs).toMatchObject({ digest, image, version: '1.0.0' });
    expect(JSON.parse(publish.outputs['manifest'] ?? '{}')).toMatchObject({ service: 'api', tag: 'api/v1.0.0', digest, commit });
    const artifact = JSON.parse(await readFile(join(ws.repo.root, 'artifacts/release-manifest/release-manifest.json'), 'utf8')) as { digest: string };
    expect(artifact.digest).toBe(digest);
    expect(ws.github.repo(REPOSITORY).releases.map((r) => r.tag_name)).toEqual(['api/v1.0.0']);
    expect(await skopeoTags(`${ws.registry.host}/acme/vault`)).toEqual([]);
  });
});

describe('promote.yml (GitHub Environments are the approval)', () => {
  it('pins by digest with the approver GitHub recorded for the run, and refuses an approver services.json does not list', SLOW, async () => {
    const ws = await releaseWorkspace(ENVIRONMENTS);
    const commit = await ws.tagRelease('api/v1.0.0');
    ok(await run(ws, 'release.yml', { name: 'push', ref: 'refs/tags/api/v1.0.0', sha: commit }), 'publish');
    const digest = await skopeoDigest(`${ws.registry.host}/acme/api:v1.0.0`);
    const dispatch = (environment: string, runId: number): SimEvent => ({
      name: 'workflow_dispatch',
      ref: 'refs/heads/main',
      sha: commit,
      runId,
      inputs: { service: 'api', environment, version: '1.0.0' },
    });

    ok(await run(ws, 'promote.yml', dispatch('staging', 1)), 'promote');
    expect(parsePin((await originFile(ws, 'deploy/staging/api.yaml')) ?? '')).toMatchObject({ digest, version: '1.0.0' });

    // Someone approved who is not among production's approvers: GitHub let the job run, Slipway refuses.
    const approvals = ws.github.repo(REPOSITORY).runApprovals;
    approvals.set(2, [{ environments: [{ name: 'production' }], state: 'approved', user: { login: 'mallory' }, comment: '' }]);
    const refused = (await run(ws, 'promote.yml', dispatch('production', 2))).find((r) => r.job === 'promote');
    expect(refused?.result).toBe('failure');
    expect(refused?.log).toMatch(/approv/i);
    expect(await originFile(ws, 'deploy/production/api.yaml')).toBeUndefined();

    // The listed reviewer approved (a rejection by another for a different environment does not count).
    approvals.set(3, [
      { environments: [{ name: 'production' }], state: 'approved', user: { login: 'release-manager' }, comment: 'ship it' },
      { environments: [{ name: 'canary' }], state: 'rejected', user: { login: 'mallory' }, comment: '' },
    ]);
    const promoted = ok(await run(ws, 'promote.yml', dispatch('production', 3)), 'promote');
    expect(promoted.outputs['digest']).toBe(digest);
    expect(parsePin((await originFile(ws, 'deploy/production/api.yaml')) ?? '')).toMatchObject({ digest, version: '1.0.0', from: 'staging' });
    const message = await ws.repo.git('-C', ws.repo.origin, 'log', '-1', '--format=%B', 'main');
    expect(message).toMatch(/^Slipway-Approved-By: release-manager$/m);
    expect(message).toMatch(new RegExp(`^Slipway-Digest: ${digest ?? 'none'}$`, 'm'));
  });
});

describe('chain.yml (computed once, passed by reference)', () => {
  it('builds sha-<7> once on main; the tag publishes that digest and pins staging by the manifest', SLOW, async () => {
    const ws = await releaseWorkspace({ ...ENVIRONMENTS, services: { api: { root: 'apps/api', build: { type: 'prebuilt', from: '{image}:sha-{sha7}' } } } });
    const image = `${ws.registry.host}/acme/api`;
    const commit = await ws.repo.commit('feat(api): hello', { 'apps/api/server.js': 'console.log("hello")\n' });
    await ws.repo.push('main');

    const merged = await run(ws, 'chain.yml', { name: 'push', ref: 'refs/heads/main', sha: commit });
    const build = ok(merged, 'build');
    expect(build.matrix).toEqual({ service: 'api', context: 'apps/api', image });
    expect(merged.find((r) => r.job === 'publish')?.result).toBe('skipped');
    const built = await skopeoDigest(`${image}:sha-${commit.slice(0, 7)}`);
    expect(await skopeoTags(image)).toEqual([`sha-${commit.slice(0, 7)}`]);

    await ws.tagRelease('api/v1.0.0');
    const tagged = await run(ws, 'chain.yml', { name: 'push', ref: 'refs/tags/api/v1.0.0', sha: commit });
    expect(tagged.find((r) => r.job === 'build')?.result).toBe('skipped');
    expect(ok(tagged, 'publish').outputs['digest']).toBe(built);
    ok(tagged, 'promote-staging');
    expect(await skopeoDigest(`${image}:v1.0.0`)).toBe(built);
    expect(parsePin((await originFile(ws, 'deploy/staging/api.yaml')) ?? '')).toMatchObject({ digest: built, version: '1.0.0', tag: 'api/v1.0.0' });
  });
});

describe('single.yml (one image, merging is not deploying)', () => {
  it('main builds main, sha-<7> and latest and dispatches nothing; v1.0.0 publishes and dispatches the digest the deploy job pins', SLOW, async () => {
    const ws = await releaseWorkspace({
      scheme: 'single',
      dispatch: { eventType: 'deploy' },
      environments: { production: {} },
      pins: ENVIRONMENTS.pins,
      services: { app: { root: 'apps/api', build: layer('apps/api') } },
    });
    const image = `${ws.registry.host}/acme/app`;
    const commit = await ws.repo.commit('feat: one', { 'apps/api/server.js': 'console.log("one")\n' });
    await ws.repo.push('main');

    ok(await run(ws, 'single.yml', { name: 'push', ref: 'refs/heads/main', sha: commit }), 'ci');
    expect(await skopeoTags(image)).toEqual(['latest', 'main', `sha-${commit.slice(0, 7)}`]);
    expect(ws.github.repo(REPOSITORY).dispatches).toEqual([]);

    await ws.tagRelease('v1.0.0');
    const tagged = ok(await run(ws, 'single.yml', { name: 'push', ref: 'refs/tags/v1.0.0', sha: commit }), 'ci');
    const digest = await skopeoDigest(`${image}:v1.0.0`);
    expect(tagged.outputs['digest']).toBe(digest);
    const [dispatched] = ws.github.repo(REPOSITORY).dispatches;
    expect(dispatched).toMatchObject({ event_type: 'deploy', client_payload: { service: 'app', digest } });
    expect(await originFile(ws, 'deploy/production/app.yaml')).toBeUndefined();

    // GitHub starts the workflow again for the repository_dispatch; only the deploy job runs.
    const deploy = await run(ws, 'single.yml', { name: 'repository_dispatch', ref: 'refs/heads/main', sha: commit, clientPayload: dispatched?.client_payload ?? {} });
    expect(deploy.find((r) => r.job === 'ci')?.result).toBe('skipped');
    ok(deploy, 'deploy');
    expect(parsePin((await originFile(ws, 'deploy/production/app.yaml')) ?? '')).toMatchObject({ digest });
  });
});

describe('staging-line.yml', () => {
  it('a staging push reserves and builds; a manual run republishes exactly the override; main promotes without rebuilding', SLOW, async () => {
    const ws = await releaseWorkspace();
    await ws.repo.commit('chore: staging line', {
      'services.json': JSON.stringify({
        repository: REPOSITORY,
        scheme: 'staging-line',
        registry: `${ws.registry.host}/acme`,
        insecureRegistries: [ws.registry.host],
        services: { api: { root: 'apps/api', build: layer('apps/api') } },
      }),
      'package.json': JSON.stringify({ name: 'acme', version: '0.3.0' }),
      'docs/development/CHANGELOGS/0.3.0.md': '# 0.3.0\n\n- Staged.\n',
    });
    await ws.repo.push('main');
    await ws.repo.push('HEAD:refs/heads/staging');
    const commit = await ws.repo.revParse('HEAD');
    const image = `${ws.registry.host}/acme/api`;

    const staged = ok(await run(ws, 'staging-line.yml', { name: 'push', ref: 'refs/heads/staging', sha: commit }), 'ci');
    expect(staged.log).toMatch(/reserved 0\.3\.0-staging\.0 /);
    const digest = await skopeoDigest(`${image}:0.3.0-staging.0`);
    expect(digest).toMatch(/^sha256:/);
    expect(await skopeoDigest(`${image}:staging`)).toBe(digest);

    ok(await run(ws, 'staging-line.yml', { name: 'workflow_dispatch', ref: 'refs/heads/staging', sha: commit, inputs: { version_override: '0.3.0-staging.5' } }), 'ci');
    // The image records its version, so the override is an image of its own, now the newest staging one.
    const republished = await skopeoDigest(`${image}:0.3.0-staging.5`);
    expect(republished).toMatch(/^sha256:/);
    expect(await skopeoDigest(`${image}:0.3.0-staging.0`)).toBe(digest);
    expect(await skopeoDigest(`${image}:staging`)).toBe(republished);

    // main: the newest staging digest becomes 0.3.0 and latest by a registry copy, not a build.
    // (A rebuild would record version 0.3.0 in the image and so change the digest.)
    ok(await run(ws, 'staging-line.yml', { name: 'push', ref: 'refs/heads/main', sha: commit }), 'ci');
    expect(await skopeoDigest(`${image}:0.3.0`)).toBe(republished);
    expect(await skopeoDigest(`${image}:latest`)).toBe(republished);
    expect(await originTags(ws)).toContain('0.3.0');
  });
});

describe('release-affected.yml (a matrix from slipway affected --json)', () => {
  it('releases and publishes each affected service in a job of its own, and leaves the others alone', SLOW, async () => {
    const ws = await releaseWorkspace({
      services: {
        api: { root: 'apps/api', build: layer('apps/api') },
        vault: { root: 'apps/vault', build: layer('apps/vault') },
        web: { root: 'apps/web', build: layer('apps/web') },
      },
    });
    await ws.repo.commit('chore: web', { 'apps/web/server.js': 'console.log("web")\n' });
    await ws.repo.push('main');
    const base = await ws.repo.revParse('HEAD');
    await ws.repo.commit('fix(api): a', { 'apps/api/server.js': 'console.log("api 2")\n', 'apps/api/package.json': JSON.stringify({ name: 'api', version: '1.0.0' }) });
    const head = await ws.repo.commit('feat(vault): b', { 'apps/vault/server.js': 'console.log("vault 2")\n', 'apps/vault/package.json': JSON.stringify({ name: 'vault', version: '2.0.0' }) });
    await ws.repo.push('main');

    const runs = await run(ws, 'release-affected.yml', { name: 'workflow_dispatch', ref: 'refs/heads/main', sha: head }, base);
    expect(JSON.parse(ok(runs, 'affected').outputs['matrix'] ?? '')).toEqual({ include: [{ service: 'api' }, { service: 'vault' }] });
    const jobs = runs.filter((r) => r.job === 'release');
    expect(jobs.map((j) => [j.matrix, j.result])).toEqual([
      [{ service: 'api' }, 'success'],
      [{ service: 'vault' }, 'success'],
    ]);
    expect(await originTags(ws)).toEqual(['api/v1.0.0', 'vault/v2.0.0']);
    expect(await skopeoDigest(`${ws.registry.host}/acme/api:v1.0.0`)).toMatch(/^sha256:/);
    expect(await skopeoDigest(`${ws.registry.host}/acme/vault:v2.0.0`)).toMatch(/^sha256:/);
    expect(await skopeoTags(`${ws.registry.host}/acme/web`)).toEqual([]);
  });
});
