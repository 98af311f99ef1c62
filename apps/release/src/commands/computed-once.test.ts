import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parsePin } from '@slipway/pins';
import { buildLayerImage, createRegistryClient, pushImage } from '@slipway/registry';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { REPOSITORY, releaseWorkspace, skopeoDigest, skopeoTags } from '../../test/fixtures.js';
import { json } from '../../test/pins-fixtures.js';
import { runCli, type CliRun } from '../../test/run-cli.js';

// The computed-once chain (issue 8, seed 004): CI builds `sha-<7>` once per commit; publish only
// locates it and carries its digest through the release manifest; promote and rollback pin digests.

const SHA_TEMPLATE = '{image}:sha-{sha7}';

async function chainWorkspace(template = SHA_TEMPLATE) {
  const ws = await releaseWorkspace({
    environments: { staging: {}, production: { after: 'staging' } },
    pins: { repo: '.', path: 'deploy/{environment}/{service}.yaml', format: 'pin' },
    services: { api: { root: 'apps/api', build: { type: 'prebuilt', from: template } } },
  });
  const env = { ...ws.env, GITHUB_ACTOR: 'alice' };
  const run = (args: readonly string[]): Promise<CliRun> => runCli([...args], { cwd: ws.repo.dir, env });
  const client = createRegistryClient({ host: ws.registry.host, insecure: true });
  const image = `${ws.registry.host}/acme/api`;

  /** What CI does for a commit on main: build the image once and push it as sha-<7>, nothing else. */
  async function ciBuild(commit: string, extraTags: readonly string[] = []): Promise<string> {
    const built = await buildLayerImage({
      from: 'scratch',
      dir: join(ws.repo.dir, 'apps/api'),
      entrypoint: ['node', '/app/server.js'],
      revision: commit,
      source: `https://github.com/${REPOSITORY}`,
    });
    const pushed = await pushImage({ registry: client, repository: 'acme/api', image: built, tags: [`sha-${commit.slice(0, 7)}`, ...extraTags] });
    return pushed.digest;
  }

  /** Commit a change to api on main, let CI build it, tag the release there. */
  async function release(version: string, body: string): Promise<{ commit: string; sha7: string; built: string }> {
    const commit = await ws.repo.commit(`feat(api): ${version}`, { 'apps/api/server.js': body });
    await ws.repo.push('main');
    const built = await ciBuild(commit);
    expect(await ws.tagRelease(`api/v${version}`)).toBe(commit);
    return { commit, sha7: commit.slice(0, 7), built };
  }

  const originFile = async (path: string) => {
    const shown = await execa('git', ['-C', ws.repo.origin, 'show', `main:${path}`], { env: ws.repo.env, reject: false });
    return shown.exitCode === 0 ? shown.stdout : undefined;
  };
  const originLog = async () => (await ws.repo.git('-C', ws.repo.origin, 'log', '--format=%H', 'main')).split('\n');
  return { ws, run, image, release, ciBuild, originFile, originLog };
}

type Chain = Awaited<ReturnType<typeof chainWorkspace>>;

/** publish <tag> --manifest <file>: returns the manifest written. */
async function publishTo(chain: Chain, tag: string, file: string): Promise<{ digest: string; commit: string; tags: string[]; image: string; version: string }> {
  const path = join(chain.ws.repo.root, file);
  const r = await chain.run(['publish', tag, '--manifest', path, '--json']);
  expect(r.exitCode, r.stderr + r.stdout).toBe(0);
  return JSON.parse(await readFile(path, 'utf8'));
}

async function promote(chain: Chain, env: string, manifest: string): Promise<void> {
  const r = await chain.run(['promote', 'api', '--to', env, '--manifest', join(chain.ws.repo.root, manifest), '--json']);
  expect(r.exitCode, `${env} ${manifest}: ${r.stderr}`).toBe(0);
  expect(json(r)).toMatchObject({ status: 'promoted', environment: env });
}

interface StatusRow {
  service: string;
  environment: string;
  digest: string | null;
  version: string | null;
  from: string | null;
}

const statusOf = async (chain: Chain, environment: string) =>
  json<{ pins: StatusRow[] }>(await chain.run(['status', 'api', '--json'])).pins.find((p) => p.environment === environment);

describe('the computed-once chain (prebuilt {image}:sha-{sha7})', () => {
  it('publishes the digest CI built for the commit, promotes it by manifest, and rolls production back to the older sha-<7>', async () => {
    const chain = await chainWorkspace();
    const { ws, image } = chain;

    // Commit A: CI pushed sha-<A7>; publish locates it, rebuilds nothing, and the manifest carries its digest.
    const a = await chain.release('1.0.0', 'console.log("api A")\n');
    const shaA = await skopeoDigest(`${image}:sha-${a.sha7}`);
    expect(shaA).toBe(a.built);
    const m1 = await publishTo(chain, 'api/v1.0.0', 'm1.json');
    expect(m1).toMatchObject({ commit: a.commit, image, digest: shaA, version: '1.0.0', tags: ['v1.0.0'] });
    expect(await skopeoDigest(`${image}:v1.0.0`)).toBe(shaA);
    expect(await skopeoTags(image)).toEqual(['sha-' + a.sha7, 'v1.0.0'].sort());

    // Commit B, the same way.
    const b = await chain.release('1.0.1', 'console.log("api B")\n');
    const shaB = await skopeoDigest(`${image}:sha-${b.sha7}`);
    expect(shaB).toBe(b.built);
    expect(shaB).not.toBe(shaA);
    const m2 = await publishTo(chain, 'api/v1.0.1', 'm2.json');
    expect(m2).toMatchObject({ commit: b.commit, digest: shaB, version: '1.0.1' });
    expect(await skopeoDigest(`${image}:v1.0.1`)).toBe(shaB);
    // The release carries the same digest: it was computed once, not re-derived.
    expect(ws.github.repo(REPOSITORY).releases.find((r) => r.tag_name === 'api/v1.0.1')?.body).toContain(shaB);

    // Promote both through staging to production, each by its manifest.
    await promote(chain, 'staging', 'm1.json');
    await promote(chain, 'production', 'm1.json');
    await promote(chain, 'staging', 'm2.json');
    await promote(chain, 'production', 'm2.json');
    expect(parsePin((await chain.originFile('deploy/production/api.yaml')) ?? '')).toMatchObject({ digest: shaB, version: '1.0.1' });

    // Rollback re-pins the older sha-<A7>'s digest, exactly.
    const rolled = await chain.run(['rollback', 'api', '--env', 'production', '--json']);
    expect(rolled.exitCode, rolled.stderr).toBe(0);
    expect(json(rolled)).toMatchObject({ status: 'promoted', environment: 'production', digest: shaA, version: '1.0.0', from: 'rollback', pushed: true });
    const pinText = (await chain.originFile('deploy/production/api.yaml')) ?? '';
    expect(pinText).toContain(shaA ?? 'no digest');
    expect(parsePin(pinText)).toMatchObject({ digest: shaA, version: '1.0.0', tag: 'api/v1.0.0', from: 'rollback' });
    expect(await statusOf(chain, 'production')).toMatchObject({ digest: shaA, version: '1.0.0', from: 'rollback' });
    expect(await statusOf(chain, 'staging')).toMatchObject({ digest: shaB });
    // Still the image CI built for A: the registry was not touched by the rollback.
    expect(await skopeoDigest(`${image}:sha-${a.sha7}`)).toBe(shaA);

    const history = json<{ promotions: { environment: string; from: string; digest: string; version: string | null }[] }>(
      await chain.run(['history', 'api', '--env', 'production', '--json']),
    );
    expect(history.promotions.map((p) => `${p.from} ${p.version} ${p.digest}`)).toEqual([
      `rollback 1.0.0 ${shaA}`,
      `staging 1.0.1 ${shaB}`,
      `staging 1.0.0 ${shaA}`,
    ]);
  });

  it('deploying latest is refused (exit 2) and writes nothing', async () => {
    const chain = await chainWorkspace();
    const { image } = chain;
    const a = await chain.release('1.0.0', 'console.log("api A")\n');
    await publishTo(chain, 'api/v1.0.0', 'm1.json');
    // Even when the registry has a latest tag, a deploy never resolves it.
    await chain.ciBuild(a.commit, ['latest']);
    expect(await skopeoDigest(`${image}:latest`)).toBe(await skopeoDigest(`${image}:v1.0.0`));
    const before = await chain.originLog();

    const r = await chain.run(['promote', 'api', '--to', 'staging', '--version', 'latest', '--json']);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(json<{ error: { code: string } }>(r).error.code).toBe('E_FLOATING_TAG');
    expect(await chain.originLog()).toEqual(before);
    expect(await chain.originFile('deploy/staging/api.yaml')).toBeUndefined();
    const dry = await chain.run(['promote', 'api', '--to', 'staging', '--version', 'latest', '--dry-run']);
    expect(dry.exitCode).toBe(2);
  });

  it('a prebuilt template of {image}:latest makes publish exit 2 before anything is written', async () => {
    const chain = await chainWorkspace('{image}:latest');
    const { ws, image } = chain;
    const commit = await ws.repo.commit('feat(api): latest', { 'apps/api/server.js': 'console.log("latest")\n' });
    await ws.repo.push('main');
    // CI pushed both its sha-<7> and a latest tag; neither is used.
    const built = await chain.ciBuild(commit, ['latest']);
    expect(await skopeoDigest(`${image}:latest`)).toBe(built);
    await ws.tagRelease('api/v1.0.0');

    const manifest = join(ws.repo.root, 'm1.json');
    const r = await chain.run(['publish', 'api/v1.0.0', '--manifest', manifest, '--json']);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(json<{ error: { code: string; message: string } }>(r).error).toMatchObject({ code: 'E_BUILD_CONFIG', message: expect.stringContaining('floating tag latest') });
    expect(await skopeoTags(image)).toEqual(['latest', `sha-${commit.slice(0, 7)}`]);
    await expect(readFile(manifest, 'utf8')).rejects.toThrow(/ENOENT/);
    expect(ws.github.repo(REPOSITORY).releases).toHaveLength(0);
  });
});
