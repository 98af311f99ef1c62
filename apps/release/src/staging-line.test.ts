import { PassThrough } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { copyImage, createRegistryClient, type RegistryClient } from '@slipway/registry';
import { createTempRepo, makeTestImage, startGitHubDouble, startRegistry, type StartRegistryOptions, type TempRepo } from '@slipway/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { GITHUB_TOKEN, layer, REPOSITORY, skopeoDigest, skopeoTags } from '../test/fixtures.js';
import { reportError } from './exit-codes.js';
import { createOutput } from './output.js';
import { formatStagingResult, mainPromote, stagingPush, type StagingResult } from './staging-line.js';
import { openWorkspace, type Workspace } from './workspace.js';

const CHANGELOG = 'docs/development/CHANGELOGS/0.1.0.md';

interface Options {
  /** false: no `repository`, reservations and tags go through git only. */
  github?: boolean;
  services?: Record<string, unknown>;
  registry?: StartRegistryOptions;
  changelog?: boolean;
}

/** A staging-line workspace at version 0.1.0 with two layer-built services, a real registry and (by default) the GitHub double. */
async function stagingWorkspace(options: Options = {}) {
  const registry = await startRegistry(options.registry);
  onTestFinished(() => registry.stop());
  const github = await startGitHubDouble({ tokens: [GITHUB_TOKEN] });
  onTestFinished(() => github.close());
  const config = {
    ...(options.github === false ? {} : { repository: REPOSITORY }),
    scheme: 'staging-line',
    registry: `${registry.host}/acme`,
    insecureRegistries: [registry.host],
    services: options.services ?? { api: { root: 'apps/api', build: layer('apps/api') }, vault: { root: 'apps/vault', build: layer('apps/vault') } },
  };
  const repo = await createTempRepo({
    files: {
      'services.json': JSON.stringify(config, null, 2),
      // The base comes from here with the prerelease stripped.
      'package.json': JSON.stringify({ name: 'acme', version: '0.1.0-dev.3' }),
      'apps/api/server.js': 'console.log("api")\n',
      'apps/vault/server.js': 'console.log("vault")\n',
      ...(options.changelog === false ? {} : { [CHANGELOG]: '# 0.1.0\n\n- The staging line works.\n' }),
    },
  });
  onTestFinished(repo.cleanup);
  github.repo(REPOSITORY, { origin: repo.dir });
  const env = { PATH: process.env['PATH'], NO_COLOR: '1', GITHUB_TOKEN, GITHUB_API_URL: github.url, HOME: repo.root, ...repo.env };
  const logs: string[] = [];
  const log = (m: string) => void logs.push(m);
  const open = (dir: string = repo.dir): Promise<Workspace> =>
    openWorkspace({ cwd: dir, processCwd: dir, dryRun: false, env, out: createOutput({ json: false, stdout: new PassThrough(), stderr: new PassThrough(), env }) });
  const client = createRegistryClient({ host: registry.host, insecure: true });
  const image = (service: string, tag: string) => `${registry.host}/acme/${service}:${tag}`;
  return { registry, github, repo, env, open, log, logs, client, image, refs: () => github.repo(REPOSITORY).refs };
}

/** The error a promise rejects with, and the exit code the CLI would give it. */
async function failure(promise: Promise<unknown>): Promise<{ error: Error & Record<string, unknown>; exitCode: number; message: string }> {
  const error = (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as (Error & Record<string, unknown>) | undefined;
  if (!error) throw new Error('expected a failure, got success');
  const report = reportError(error);
  return { error, exitCode: report.exitCode, message: report.message };
}

async function layerText(client: RegistryClient, repository: string, digest: string): Promise<string> {
  const manifest = JSON.parse(Buffer.from((await client.getManifest(repository, digest)).bytes).toString('utf8')) as { layers: { digest: string }[] };
  const blob = await client.getBlob(repository, manifest.layers[manifest.layers.length - 1]?.digest ?? '');
  return gunzipSync(blob).toString('latin1');
}

async function commitChange(repo: TempRepo, text: string): Promise<string> {
  const sha = await repo.commit(`feat: ${text}`, { 'apps/api/server.js': `console.log(${JSON.stringify(text)})\n`, 'apps/vault/server.js': `// ${text}\n` });
  await repo.push();
  return sha;
}

describe('stagingPush', () => {
  it('reserves N, builds every service from the commit (not the dirty tree), pushes X.Y.Z-staging.N + staging, and a prerelease', async () => {
    const w = await stagingWorkspace();
    const commit = await w.repo.revParse();
    await w.repo.write({ 'apps/api/server.js': 'console.log("uncommitted")\n' });
    const ws = await w.open();

    const result = await stagingPush(ws, { commit: 'HEAD', dryRun: false, log: w.log });

    expect(result).toMatchObject({ event: 'staging', base: '0.1.0', version: '0.1.0-staging.0', n: 0, commit, gitTag: 'created', changelog: CHANGELOG });
    expect(result.images.map((i) => [i.service, i.tags, i.action])).toEqual([
      ['api', ['0.1.0-staging.0', 'staging'], 'pushed'],
      ['vault', ['0.1.0-staging.0', 'staging'], 'pushed'],
    ]);
    for (const image of result.images) {
      // skopeo, an independent client, sees both tags at the digest slipway reported.
      expect(await skopeoDigest(w.image(image.service, '0.1.0-staging.0'))).toBe(image.digest);
      expect(await skopeoDigest(w.image(image.service, 'staging'))).toBe(image.digest);
    }
    const text = await layerText(w.client, 'acme/api', result.images[0]?.digest ?? '');
    expect(text).toContain('console.log("api")');
    expect(text).not.toContain('uncommitted');
    // The reservation is the git tag, created atomically on GitHub at the commit.
    expect(w.refs().get('refs/tags/0.1.0-staging.0')).toEqual({ sha: commit, type: 'commit' });
    const releases = w.github.repo(REPOSITORY).releases;
    expect(releases).toHaveLength(1);
    expect(releases[0]).toMatchObject({ tag_name: '0.1.0-staging.0', prerelease: true, target_commitish: commit, body: '- The staging line works.\n' });
  });

  it('a re-run for the same commit reuses N and changes nothing; the next commit gets N+1 and moves staging', async () => {
    const w = await stagingWorkspace();
    const ws = await w.open();
    const first = await stagingPush(ws, { commit: 'HEAD', dryRun: false, log: w.log });
    const again = await stagingPush(ws, { commit: 'HEAD', dryRun: false, log: w.log });
    expect(again).toMatchObject({ version: '0.1.0-staging.0', gitTag: 'existing', release: { action: 'unchanged' } });
    expect(again.images.map((i) => [i.digest, i.action])).toEqual(first.images.map((i) => [i.digest, 'unchanged']));
    expect([...w.refs().keys()]).toEqual(['refs/tags/0.1.0-staging.0']);

    await commitChange(w.repo, 'two');
    const second = await stagingPush(ws, { commit: 'HEAD', dryRun: false, log: w.log });
    expect(second.version).toBe('0.1.0-staging.1');
    expect(await skopeoDigest(w.image('api', 'staging'))).toBe(second.images[0]?.digest);
    expect(await skopeoDigest(w.image('api', '0.1.0-staging.0'))).toBe(first.images[0]?.digest);
    expect(second.images[0]?.digest).not.toBe(first.images[0]?.digest);
  });

  it('without GitHub, reserves by pushing the tag to origin and creates no release', async () => {
    const w = await stagingWorkspace({ github: false });
    const result = await stagingPush(await w.open(), { commit: 'HEAD', dryRun: false, log: w.log });
    expect(result).toMatchObject({ version: '0.1.0-staging.0', release: null, gitTag: 'created' });
    expect(await w.repo.git('-C', w.repo.origin, 'rev-parse', '0.1.0-staging.0^{commit}')).toBe(result.commit);
    expect(w.github.state.requests).toEqual([]);
  });

  it('a manual dispatch with versionOverride publishes exactly that version', async () => {
    const w = await stagingWorkspace();
    const result = await stagingPush(await w.open(), { commit: 'HEAD', dryRun: false, log: w.log, versionOverride: '0.1.0-staging.99' });
    expect(result).toMatchObject({ version: '0.1.0-staging.99', n: 99, gitTag: 'created' });
    expect(await skopeoTags(`${w.registry.host}/acme/api`)).toEqual(['0.1.0-staging.99', 'staging']);
    expect(formatStagingResult(result)).toMatch(/^publish 0\.1\.0-staging\.99 from [0-9a-f]{7} \(tag created\)\nimage +digest +tags +action\n/);
  });

  it('a build configuration error found offline is exit 2 naming every one, before anything is reserved or pushed', async () => {
    const w = await stagingWorkspace({
      services: {
        // A base without tag or digest, and a layer folder that is not there: both knowable without the network.
        api: { root: 'apps/api', build: { type: 'layer', from: '127.0.0.1:1/acme/node', dir: 'apps/api' } },
        vault: { root: 'apps/vault', build: { type: 'layer', from: 'scratch', dir: 'apps/nowhere' } },
      },
    });
    const { exitCode, message } = await failure(stagingPush(await w.open(), { commit: 'HEAD', dryRun: false, log: w.log }));
    expect(exitCode).toBe(2);
    expect(message).toContain('services.api.build.from');
    expect(message).toContain('services.vault.build.dir');
    expect(w.refs().size).toBe(0);
    expect(await w.repo.git('ls-remote', '--tags', 'origin')).toBe('');
    expect(await skopeoTags(`${w.registry.host}/acme/api`)).toEqual([]);
  });

  it('a missing changelog is exit 2 naming the path, before anything is reserved or pushed', async () => {
    const w = await stagingWorkspace({ changelog: false });
    const { exitCode, message } = await failure(stagingPush(await w.open(), { commit: 'HEAD', dryRun: false, log: w.log }));
    expect(exitCode).toBe(2);
    expect(message).toContain(CHANGELOG);
    expect(w.refs().size).toBe(0);
    expect(await skopeoTags(`${w.registry.host}/acme/api`)).toEqual([]);
  });

  it('--dry-run reports the plan and writes nothing', async () => {
    const w = await stagingWorkspace();
    const result = await stagingPush(await w.open(), { commit: 'HEAD', dryRun: true, log: w.log });
    expect(result).toMatchObject({ dryRun: true, version: '0.1.0-staging.0', gitTag: 'planned', release: { action: 'planned' } });
    expect(result.images.map((i) => i.action)).toEqual(['planned', 'planned']);
    expect(w.refs().size).toBe(0);
    expect(await skopeoTags(`${w.registry.host}/acme/api`)).toEqual([]);
    expect(w.github.repo(REPOSITORY).releases).toEqual([]);
  });

  it('refuses other schemes (exit 2)', async () => {
    const w = await stagingWorkspace();
    const ws = await w.open();
    const perService = { ...ws, config: { ...ws.config, scheme: 'per-service' as const } };
    const { exitCode, message } = await failure(stagingPush(perService, { commit: 'HEAD', dryRun: false, log: w.log }));
    expect(exitCode).toBe(2);
    expect(message).toContain('"scheme": "per-service"');
  });
});

describe('mainPromote', () => {
  it('copies the staging image by digest to X.Y.Z and latest (no blob moves), tags X.Y.Z and releases it', async () => {
    const w = await stagingWorkspace();
    const ws = await w.open();
    const staged = await stagingPush(ws, { commit: 'HEAD', dryRun: false, log: w.log });
    w.registry.clearRequests();

    const promoted = await mainPromote(ws, { commit: 'HEAD', dryRun: false, log: w.log });

    expect(promoted).toMatchObject({ event: 'promote', version: '0.1.0', n: 0, commit: staged.commit, pushedCommit: staged.commit, gitTag: 'created' });
    for (const [i, image] of promoted.images.entries()) {
      expect(image).toMatchObject({ digest: staged.images[i]?.digest, tags: ['0.1.0', 'latest'], from: '0.1.0-staging.0', action: 'pushed' });
      expect(await skopeoDigest(w.image(image.service, '0.1.0'))).toBe(image.digest);
      expect(await skopeoDigest(w.image(image.service, 'latest'))).toBe(image.digest);
    }
    // Promotion is manifest PUTs only: not one blob uploaded.
    expect(w.registry.requests.filter((r) => /\/blobs\//.test(r.path) && r.method !== 'HEAD' && r.method !== 'GET')).toEqual([]);
    expect(await w.repo.git('-C', w.repo.origin, 'cat-file', '-t', '0.1.0')).toBe('tag');
    expect(await w.repo.git('-C', w.repo.origin, 'rev-parse', '0.1.0^{commit}')).toBe(staged.commit);
    const release = w.github.repo(REPOSITORY).releases.find((r) => r.tag_name === '0.1.0');
    expect(release).toMatchObject({ prerelease: false, target_commitish: staged.commit, body: '- The staging line works.\n' });

    const again = await mainPromote(ws, { commit: 'HEAD', dryRun: false, log: w.log });
    expect(again).toMatchObject({ gitTag: 'existing', release: { action: 'unchanged' } });
    expect(again.images.map((i) => i.action)).toEqual(['unchanged', 'unchanged']);
  });

  it('a later main push with the same base and a newer staging build is refused (exit 3); X.Y.Z, latest and the tag stay', async () => {
    const w = await stagingWorkspace();
    const ws = await w.open();
    const first = await stagingPush(ws, { commit: 'HEAD', dryRun: false, log: w.log });
    await mainPromote(ws, { commit: 'HEAD', dryRun: false, log: w.log });

    await commitChange(w.repo, 'newer');
    const second = await stagingPush(ws, { commit: 'HEAD', dryRun: false, log: w.log });
    expect(second.version).toBe('0.1.0-staging.1');
    const { exitCode, message } = await failure(mainPromote(ws, { commit: 'HEAD', dryRun: false, log: w.log }));

    expect(exitCode).toBe(3);
    expect(message).toContain('0.1.0 already holds');
    for (const image of first.images) {
      expect(await skopeoDigest(w.image(image.service, '0.1.0'))).toBe(image.digest);
      expect(await skopeoDigest(w.image(image.service, 'latest'))).toBe(image.digest);
    }
    expect(await w.repo.git('-C', w.repo.origin, 'rev-parse', '0.1.0^{commit}')).toBe(first.commit);
    expect(w.github.repo(REPOSITORY).releases.filter((r) => r.tag_name === '0.1.0')).toHaveLength(1);
  });

  it('a missing changelog is exit 2 naming the path, and nothing is promoted', async () => {
    const w = await stagingWorkspace();
    const ws = await w.open();
    await stagingPush(ws, { commit: 'HEAD', dryRun: false, log: w.log });
    await w.repo.commit('docs: drop the changelog', { [CHANGELOG]: null });
    await w.repo.push();
    const { exitCode, message } = await failure(mainPromote(ws, { commit: 'HEAD', dryRun: false, log: w.log }));
    expect(exitCode).toBe(2);
    expect(message).toContain(CHANGELOG);
    expect(await skopeoDigest(w.image('api', '0.1.0'))).toBeUndefined();
  });

  it('picks the right M among 150 staging tags spread over several tag-list pages (git-only workspace)', async () => {
    const w = await stagingWorkspace({ github: false, registry: { tagPageSize: 20 } });
    const ws = await w.open();
    const first = await stagingPush(ws, { commit: 'HEAD', dryRun: false, log: w.log });
    // 148 more staging builds of the same image, cheaply: one manifest under many tags, and their git tags.
    const more = Array.from({ length: 148 }, (_, i) => `0.1.0-staging.${String(i + 1)}`);
    for (const image of first.images) {
      await copyImage({ from: { registry: w.client, repository: `acme/${image.service}`, reference: image.digest }, to: { repository: `acme/${image.service}`, tags: more } });
    }
    for (const tag of more) await w.repo.git('tag', tag, first.commit);
    await w.repo.push(...more.map((t) => `refs/tags/${t}`));

    const commit = await commitChange(w.repo, 'the 150th');
    const latest = await stagingPush(ws, { commit: 'HEAD', dryRun: false, log: w.log });
    expect(latest.version).toBe('0.1.0-staging.149');
    w.registry.clearRequests();

    const promoted = await mainPromote(ws, { commit: 'HEAD', dryRun: false, log: w.log });
    expect(promoted).toMatchObject({ n: 149, commit, release: null });
    for (const [i, image] of promoted.images.entries()) {
      expect(image.digest).toBe(latest.images[i]?.digest);
      expect(await skopeoDigest(w.image(image.service, '0.1.0'))).toBe(latest.images[i]?.digest);
    }
    // Every page was read: the tag list of each repository took several requests.
    const pages = w.registry.requests.filter((r) => r.method === 'GET' && r.path.includes('/acme/api/tags/list'));
    expect(pages.length).toBeGreaterThan(1);
  });

  it('M is the minimum over images of their highest N: one image ahead waits for the others', async () => {
    const w = await stagingWorkspace();
    const ws = await w.open();
    const staged = await stagingPush(ws, { commit: 'HEAD', dryRun: false, log: w.log });
    // api alone has a staging.1 (say, its build of the next push finished first).
    await copyImage({ from: { registry: w.client, repository: 'acme/api', reference: staged.images[0]?.digest ?? '' }, to: { repository: 'acme/api', tags: ['0.1.0-staging.1'] } });
    const promoted = await mainPromote(ws, { commit: 'HEAD', dryRun: false, log: w.log });
    expect(promoted.n).toBe(0);
    expect(promoted.images.map((i) => i.from)).toEqual(['0.1.0-staging.0', '0.1.0-staging.0']);
  });

  it('refuses staging.M images that come from different commits (exit 3)', async () => {
    const w = await stagingWorkspace();
    const ws = await w.open();
    const one = await stagingPush(ws, { commit: 'HEAD', dryRun: false, log: w.log });
    await commitChange(w.repo, 'two');
    const two = await stagingPush(ws, { commit: 'HEAD', dryRun: false, log: w.log });
    // staging.2 of api is the old build, of vault the new one: a mix.
    await copyImage({ from: { registry: w.client, repository: 'acme/api', reference: one.images[0]?.digest ?? '' }, to: { repository: 'acme/api', tags: ['0.1.0-staging.2'] } });
    await copyImage({ from: { registry: w.client, repository: 'acme/vault', reference: two.images[1]?.digest ?? '' }, to: { repository: 'acme/vault', tags: ['0.1.0-staging.2'] } });

    const { exitCode, message } = await failure(mainPromote(ws, { commit: 'HEAD', dryRun: false, log: w.log }));
    expect(exitCode).toBe(3);
    expect(message).toContain('different commits');
    expect(await skopeoDigest(w.image('api', '0.1.0'))).toBeUndefined();
  });

  it('first publish (no repository yet) fails naming what is missing; nothing is tagged', async () => {
    const w = await stagingWorkspace();
    const { exitCode, message, error } = await failure(mainPromote(await w.open(), { commit: 'HEAD', dryRun: false, log: w.log }));
    expect(exitCode).toBe(3);
    expect(error['code']).toBe('E_STAGING_MISSING');
    expect(message).toContain(`${w.registry.host}/acme/api`);
    expect(message).toContain(`${w.registry.host}/acme/vault`);
    expect(await w.repo.git('-C', w.repo.origin, 'tag', '-l')).toBe('');
  });

  it.each([
    [401, /log in to 127\.0\.0\.1:\d+/],
    [403, /may not pull/],
  ])('a %i while listing tags is exit 1 saying which access is missing', async (status, guidance) => {
    const w = await stagingWorkspace();
    const ws = await w.open();
    await stagingPush(ws, { commit: 'HEAD', dryRun: false, log: w.log });
    w.registry.injectFault({ method: 'GET', path: '/tags/list', status, times: 10, body: JSON.stringify({ errors: [{ code: status === 401 ? 'UNAUTHORIZED' : 'DENIED', message: 'no' }] }) });
    const { exitCode, message } = await failure(mainPromote(ws, { commit: 'HEAD', dryRun: false, log: w.log }));
    expect(exitCode).toBe(1);
    expect(message).toMatch(guidance);
    expect(await skopeoDigest(w.image('api', '0.1.0'))).toBeUndefined();
  });

  it('--dry-run plans the promotion and writes nothing', async () => {
    const w = await stagingWorkspace();
    const ws = await w.open();
    const staged = await stagingPush(ws, { commit: 'HEAD', dryRun: false, log: w.log });
    const plan = await mainPromote(ws, { commit: 'HEAD', dryRun: true, log: w.log });
    expect(plan).toMatchObject({ dryRun: true, version: '0.1.0', gitTag: 'planned', release: { action: 'planned' } });
    expect(plan.images.map((i) => [i.digest, i.tags, i.action])).toEqual(staged.images.map((i) => [i.digest, ['0.1.0', 'latest'], 'planned']));
    expect(await skopeoDigest(w.image('api', '0.1.0'))).toBeUndefined();
    expect(await w.repo.git('-C', w.repo.origin, 'tag', '-l', '0.1.0')).toBe('');
  });
});

describe('the computed-once chain (prebuilt sha-<7>)', () => {
  async function prebuiltWorkspace(template: string) {
    const w = await stagingWorkspace({ services: { web: { root: 'apps/api', build: { type: 'prebuilt', from: template } } } });
    return w;
  }

  it('promotes the image CI pushed as sha-<7> by digest, from staging to X.Y.Z, never rebuilding or re-resolving', async () => {
    const w = await prebuiltWorkspace('{image}:sha-{sha7}');
    const commit = await w.repo.revParse();
    // CI's build job pushed the image for this commit under sha-<7>, computed once.
    const built = makeTestImage();
    for (const blob of [built.config, ...built.layers]) await w.client.pushBlob('acme/web', blob);
    await w.client.putManifest('acme/web', `sha-${commit.slice(0, 7)}`, built);
    const ws = await w.open();

    const staged: StagingResult = await stagingPush(ws, { commit, dryRun: false, log: w.log });
    expect(staged.images[0]).toMatchObject({ service: 'web', digest: built.digest, tags: ['0.1.0-staging.0', 'staging'] });

    const promoted = await mainPromote(ws, { commit, dryRun: false, log: w.log });
    // No revision label on this image: the git tag 0.1.0-staging.0 (on GitHub) says where it came from.
    expect(promoted).toMatchObject({ commit, images: [{ digest: built.digest, tags: ['0.1.0', 'latest'] }] });
    expect(await skopeoDigest(w.image('web', '0.1.0'))).toBe(built.digest);
  });

  it('refuses a template that names a mutable tag (latest) with exit 2, before reserving anything', async () => {
    const w = await prebuiltWorkspace('{image}:latest');
    const { exitCode, message } = await failure(stagingPush(await w.open(), { commit: 'HEAD', dryRun: false, log: w.log }));
    expect(exitCode).toBe(2);
    expect(message).toContain('floating tag latest');
    expect(w.refs().size).toBe(0);
  });
});
