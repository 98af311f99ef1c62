import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startVerdaccio, type VerdaccioPeer } from '@slipway/testing';
import { execa } from 'execa';
import { describe, expect, it, onTestFinished } from 'vitest';
import { layer, REPOSITORY, releaseWorkspace, skopeoTags, type ReleaseWorkspace } from '../test/fixtures.js';
import { runCli, type CliRun } from '../test/run-cli.js';
import { npmDistTag, stampPackageJson } from './npm-publish.js';

const COMMIT = 'a'.repeat(40);

describe('npmDistTag', () => {
  it.each([
    ['1.0.0', [], 'latest'],
    ['1.1.0', ['1.0.0'], 'latest'],
    ['1.1.0-rc.1', ['1.0.0'], 'next'],
    ['2.0.0-rc.1', [], 'next'],
    // a backport never moves latest backwards
    ['1.5.0', ['1.4.0', '2.0.0'], 'latest-1'],
    ['1.4.1', ['1.4.0', '1.5.0', '2.0.0'], 'latest-1.4'],
    // prereleases of a higher version do not count as newer stable releases
    ['1.2.0', ['1.1.0', '2.0.0-rc.1'], 'latest'],
    // what npm holds that is not semver is ignored
    ['1.2.0', ['1.1.0', 'garbage', '1.0.0+build.1'], 'latest'],
  ])('%s with %j published → %s', (version, published, tag) => {
    expect(npmDistTag(version, published)).toBe(tag);
  });
});

describe('stampPackageJson', () => {
  it('sets version and gitHead, keeping key order, indentation and the final newline', () => {
    const text = '{\n\t"name": "@acme/cli",\n\t"version": "0.0.0-dev",\n\t"bin": { "acme": "bin/acme.js" }\n}\n';
    const stamped = stampPackageJson(text, { version: '1.2.3', gitHead: COMMIT }, 'packages/cli/package.json');
    expect(stamped.name).toBe('@acme/cli');
    expect(stamped.text).toBe(`{\n\t"name": "@acme/cli",\n\t"version": "1.2.3",\n\t"bin": {\n\t\t"acme": "bin/acme.js"\n\t},\n\t"gitHead": "${COMMIT}"\n}\n`);
    expect(Object.keys(JSON.parse(stamped.text))).toEqual(['name', 'version', 'bin', 'gitHead']);
  });

  it('adds a missing version and reads publishConfig.registry', () => {
    const stamped = stampPackageJson('{"name":"x","publishConfig":{"registry":"https://npm.example/"}}', { version: '1.0.0', gitHead: COMMIT }, 'p');
    expect(JSON.parse(stamped.text)).toMatchObject({ name: 'x', version: '1.0.0', gitHead: COMMIT });
    expect(stamped.publishRegistry).toBe('https://npm.example/');
  });

  it.each([
    ['{"version":"1.0.0"}', /has no "name"/],
    ['{"name":"x","private":true}', /"private": true/],
    ['not json', /not valid JSON/],
    ['[1]', /not a JSON object/],
  ])('refuses %s (exit 2)', (text, message) => {
    let error: unknown;
    try {
      stampPackageJson(text, { version: '1.0.0', gitHead: COMMIT }, 'packages/cli/package.json');
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ name: 'NpmPackageError', code: 'E_NPM_PACKAGE', exitCode: 2, path: 'packages/cli/package.json' });
    expect((error as Error).message).toMatch(message);
  });
});

const PACKAGE = '@acme/cli';

interface NpmWorkspace extends ReleaseWorkspace {
  npm: VerdaccioPeer;
  /** Every CLI run of the test, for the token scan. */
  runs: CliRun[];
  publish(...args: string[]): Promise<CliRun>;
}

/** The lead's two image services plus `cli`, an npm service in packages/cli, and a real verdaccio. */
async function npmWorkspace(packageJson: Record<string, unknown> = { name: PACKAGE, version: '0.0.0-development', bin: { acme: 'bin/acme.js' } }): Promise<NpmWorkspace> {
  const npm = await startVerdaccio();
  onTestFinished(() => npm.stop());
  const ws = await releaseWorkspace({
    services: {
      api: { root: 'apps/api', build: layer('apps/api') },
      vault: { root: 'apps/vault', build: layer('apps/vault') },
      cli: { kind: 'npm', root: 'packages/cli' },
    },
  });
  await ws.repo.commit('feat(cli): the acme command (#3)', {
    'packages/cli/package.json': `${JSON.stringify(packageJson, null, 2)}\n`,
    'packages/cli/bin/acme.js': 'console.log("acme 1")\n',
  });
  await ws.repo.push('main');
  const env = { ...ws.env, NPM_CONFIG_REGISTRY: npm.url, NODE_AUTH_TOKEN: npm.token };
  const runs: CliRun[] = [];
  return {
    ...ws,
    env,
    npm,
    runs,
    async publish(...args) {
      const run = await runCli(['publish', ...args], { cwd: ws.repo.dir, env });
      runs.push(run);
      return run;
    },
  };
}

/** The registry's own answer over HTTP, independent of slipway and the npm CLI. */
async function packument(npm: VerdaccioPeer, name = PACKAGE): Promise<{ 'dist-tags': Record<string, string>; versions: Record<string, { gitHead?: string; dist: { shasum: string; tarball: string } }> } | undefined> {
  const response = await fetch(`${npm.url}${name.replace('/', '%2f')}`, { headers: { authorization: `Bearer ${npm.token}` } });
  if (response.status === 404) return undefined;
  expect(response.status).toBe(200);
  return (await response.json()) as never;
}

async function tarballSha256(npm: VerdaccioPeer, version: string): Promise<string> {
  const tarball = (await packument(npm))?.versions[version]?.dist.tarball;
  if (!tarball) throw new Error(`verdaccio has no ${version}`);
  const response = await fetch(tarball, { headers: { authorization: `Bearer ${npm.token}` } });
  return `sha256:${createHash('sha256').update(Buffer.from(await response.arrayBuffer())).digest('hex')}`;
}

async function tarballFile(npm: VerdaccioPeer, version: string, file: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-npm-test-'));
  try {
    const tarball = (await packument(npm))?.versions[version]?.dist.tarball as string;
    await writeFile(join(dir, 'p.tgz'), Buffer.from(await (await fetch(tarball)).arrayBuffer()));
    await execa('tar', ['-xzf', 'p.tgz'], { cwd: dir });
    return await readFile(join(dir, 'package', file), 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Publishes by hand with the npm CLI, as someone outside slipway would. */
async function publishByHand(npm: VerdaccioPeer, files: Record<string, string>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-npm-hand-'));
  try {
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
    await writeFile(join(dir, '.npmrc'), `//${npm.host}/:_authToken=${npm.token}\n`);
    await execa('npm', ['publish', '--registry', npm.url, '--tag', 'latest', '--update-notifier=false'], { cwd: dir, env: { PATH: process.env['PATH'], HOME: dir } });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const puts = (npm: VerdaccioPeer) => npm.requests.filter((r) => r.method === 'PUT' && !r.url.startsWith('/-/user/'));

function expectNoToken(ws: NpmWorkspace): void {
  expect(ws.runs.length).toBeGreaterThan(0);
  for (const run of ws.runs) {
    expect(run.stdout).not.toContain(ws.npm.token);
    expect(run.stderr).not.toContain(ws.npm.token);
  }
}

describe('slipway publish for kind: "npm" services (verdaccio)', () => {
  it('cli/v1.0.0 on main publishes the package at the tag, dist-tag latest, with a release and a manifest; a re-run changes nothing', async () => {
    const ws = await npmWorkspace();
    const commit = await ws.tagRelease('cli/v1.0.0');
    // The working tree is not what gets published: the tag's commit is.
    await writeFile(join(ws.repo.dir, 'packages/cli/bin/acme.js'), 'console.log("uncommitted")\n');

    const manifestPath = join(ws.repo.root, 'manifest.json');
    const run = await ws.publish('cli/v1.0.0', '--manifest', manifestPath, '--json');
    expect(run.exitCode, run.stderr + run.stdout).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.artifacts).toEqual([
      {
        service: 'cli',
        image: `npm:${PACKAGE}`,
        package: PACKAGE,
        digest: expect.stringMatching(/^sha256:[a-f0-9]{64}$/),
        tags: ['latest'],
        distTag: 'latest',
        action: 'pushed',
        bytesPushed: expect.any(Number),
      },
    ]);

    const registry = await packument(ws.npm);
    expect(Object.keys(registry?.versions ?? {})).toEqual(['1.0.0']);
    expect(registry?.['dist-tags']).toEqual({ latest: '1.0.0' });
    expect(registry?.versions['1.0.0']?.gitHead).toBe(commit);
    // The digest names the bytes verdaccio serves; the version comes from the tag, not package.json.
    expect(await tarballSha256(ws.npm, '1.0.0')).toBe(result.artifacts[0].digest);
    expect(JSON.parse(await tarballFile(ws.npm, '1.0.0', 'package.json'))).toMatchObject({ name: PACKAGE, version: '1.0.0', gitHead: commit });
    expect(await tarballFile(ws.npm, '1.0.0', 'bin/acme.js')).toBe('console.log("acme 1")\n');

    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    expect(manifest).toMatchObject({ schema: 1, service: 'cli', version: '1.0.0', tag: 'cli/v1.0.0', commit, image: `npm:${PACKAGE}`, digest: result.artifacts[0].digest, tags: ['latest'], prerelease: false });
    const releases = ws.github.repo(REPOSITORY).releases;
    expect(releases).toHaveLength(1);
    expect(releases[0]).toMatchObject({ tag_name: 'cli/v1.0.0', prerelease: false, target_commitish: commit });
    expect(releases[0]?.body).toContain(result.artifacts[0].digest);
    // An npm tag never touches the image registry.
    expect(await skopeoTags(`${ws.registry.host}/acme/cli`)).toEqual([]);

    const publishes = puts(ws.npm).length;
    const again = await ws.publish('cli/v1.0.0', '--manifest', manifestPath, '--json');
    expect(again.exitCode, again.stderr).toBe(0);
    const second = JSON.parse(again.stdout);
    expect(second.artifacts[0]).toMatchObject({ action: 'unchanged', digest: result.artifacts[0].digest, tags: ['latest'], bytesPushed: 0 });
    expect(second.release.action).toBe('unchanged');
    expect(puts(ws.npm)).toHaveLength(publishes);
    expect(ws.github.repo(REPOSITORY).releases).toHaveLength(1);
    expect(JSON.parse(await readFile(manifestPath, 'utf8'))).toEqual(manifest);
    expectNoToken(ws);
  });

  it('verify checks the package the registry serves against the manifest, and by gitHead without one', async () => {
    const ws = await npmWorkspace();
    await ws.tagRelease('cli/v1.0.0');
    const manifestPath = join(ws.repo.root, 'manifest.json');
    const verify = (...args: string[]) => runCli(['verify', 'cli/v1.0.0', ...args], { cwd: ws.repo.dir, env: ws.env });
    expect((await verify()).exitCode).toBe(1);
    expect((await ws.publish('cli/v1.0.0', '--manifest', manifestPath)).exitCode).toBe(0);
    const withManifest = await verify('--manifest', manifestPath, '--json');
    expect(withManifest.exitCode, withManifest.stdout).toBe(0);
    expect(JSON.parse(withManifest.stdout).checks[0]).toMatchObject({ check: `npm ${PACKAGE}@1.0.0`, ok: true });
    expect((await verify()).exitCode).toBe(0);
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    await writeFile(manifestPath, JSON.stringify({ ...manifest, digest: `sha256:${'1'.repeat(64)}` }));
    expect((await verify('--manifest', manifestPath)).exitCode).toBe(1);
  });

  it('an rc takes dist-tag next and leaves latest where it was; the release is a prerelease', async () => {
    const ws = await npmWorkspace();
    await ws.tagRelease('cli/v1.0.0');
    expect((await ws.publish('cli/v1.0.0')).exitCode).toBe(0);
    await ws.repo.commit('feat(cli): more', { 'packages/cli/bin/acme.js': 'console.log("acme 1.1")\n' });
    await ws.repo.push('main');
    await ws.tagRelease('cli/v1.1.0-rc.1');

    const run = await ws.publish('cli/v1.1.0-rc.1', '--json');
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).artifacts[0]).toMatchObject({ action: 'pushed', distTag: 'next', tags: ['next'] });
    expect((await packument(ws.npm))?.['dist-tags']).toEqual({ latest: '1.0.0', next: '1.1.0-rc.1' });
    expect(ws.github.repo(REPOSITORY).releases.find((r) => r.tag_name === 'cli/v1.1.0-rc.1')).toMatchObject({ prerelease: true });
    expectNoToken(ws);
  });

  it('a backport takes latest-<major>, never moving latest backwards', async () => {
    const ws = await npmWorkspace();
    const old = await ws.repo.revParse();
    await ws.tagRelease('cli/v2.0.0');
    expect((await ws.publish('cli/v2.0.0')).exitCode).toBe(0);
    await ws.tagRelease('cli/v1.5.0', old);
    const run = await ws.publish('cli/v1.5.0', '--json');
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).artifacts[0]).toMatchObject({ distTag: 'latest-1' });
    expect((await packument(ws.npm))?.['dist-tags']).toEqual({ latest: '2.0.0', 'latest-1': '1.5.0' });
  });

  it('refuses (exit 3) a version already published with another tarball, and leaves it alone', async () => {
    const ws = await npmWorkspace();
    await publishByHand(ws.npm, { 'package.json': JSON.stringify({ name: PACKAGE, version: '1.0.0' }), 'index.js': 'hand-made\n' });
    const before = (await packument(ws.npm))?.versions['1.0.0']?.dist.shasum;
    await ws.tagRelease('cli/v1.0.0');

    const run = await ws.publish('cli/v1.0.0', '--json');
    expect(run.exitCode, run.stderr).toBe(3);
    const { error } = JSON.parse(run.stdout);
    expect(error.code).toBe('E_IMMUTABLE_VERSION');
    expect(error.message).toContain(`${PACKAGE}@1.0.0 is already published`);
    expect((await packument(ws.npm))?.versions['1.0.0']?.dist.shasum).toBe(before);
    expect(ws.github.repo(REPOSITORY).releases).toHaveLength(0);
    expectNoToken(ws);
  });

  it('counts a version published from the same commit with other bytes as the same release (gitHead)', async () => {
    const ws = await npmWorkspace();
    const commit = await ws.tagRelease('cli/v1.0.0');
    // Same commit, packed elsewhere: different bytes (here, package.json formatting), same gitHead.
    await publishByHand(ws.npm, {
      'package.json': JSON.stringify({ name: PACKAGE, version: '1.0.0', gitHead: commit }),
      'index.js': 'packed elsewhere\n',
    });
    const run = await ws.publish('cli/v1.0.0', '--json');
    expect(run.exitCode, run.stderr).toBe(0);
    const artifact = JSON.parse(run.stdout).artifacts[0];
    expect(artifact).toMatchObject({ action: 'unchanged' });
    // The digest is that of what the registry serves, not of the local pack.
    expect(artifact.digest).toBe(await tarballSha256(ws.npm, '1.0.0'));
  });

  it('an image tag (api/v…) never touches the npm registry', async () => {
    const ws = await npmWorkspace();
    ws.npm.clearRequests();
    await ws.tagRelease('api/v1.0.0');
    const run = await ws.publish('api/v1.0.0', '--json');
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).artifacts[0]).toMatchObject({ image: `${ws.registry.host}/acme/api`, action: 'pushed' });
    expect(ws.npm.requests).toEqual([]);
    expect(await packument(ws.npm)).toBeUndefined();
  });

  it('--dry-run packs and hashes, publishes nothing', async () => {
    const ws = await npmWorkspace();
    await ws.tagRelease('cli/v1.0.0');
    const run = await ws.publish('cli/v1.0.0', '--dry-run', '--json');
    expect(run.exitCode, run.stderr).toBe(0);
    const dry = JSON.parse(run.stdout).artifacts[0];
    expect(dry).toMatchObject({ action: 'planned', distTag: 'latest', digest: expect.stringMatching(/^sha256:[a-f0-9]{64}$/) });
    expect(puts(ws.npm)).toEqual([]);
    expect(await packument(ws.npm)).toBeUndefined();
    expect(ws.github.repo(REPOSITORY).releases).toHaveLength(0);

    // npm pack is reproducible: the real publish ships exactly the bytes the dry run hashed.
    const real = await ws.publish('cli/v1.0.0', '--json');
    expect(real.exitCode, real.stderr).toBe(0);
    expect(JSON.parse(real.stdout).artifacts[0].digest).toBe(dry.digest);
    expect(await tarballSha256(ws.npm, '1.0.0')).toBe(dry.digest);
  });

  it('without a token, or with a refused one, exits 1 naming the token, and never prints it', async () => {
    const ws = await npmWorkspace();
    await ws.tagRelease('cli/v1.0.0');
    const { NODE_AUTH_TOKEN: _unused, ...noToken } = ws.env;
    const missing = await runCli(['publish', 'cli/v1.0.0', '--json'], { cwd: ws.repo.dir, env: noToken });
    expect(missing.exitCode).toBe(1);
    expect(JSON.parse(missing.stdout).error).toMatchObject({ code: 'E_NPM_AUTH', message: expect.stringContaining('set NODE_AUTH_TOKEN (or NPM_TOKEN)') });

    const wrong = 'npm_wrongToken0123456789abcdefABCDEF';
    const refused = await runCli(['publish', 'cli/v1.0.0', '--json'], { cwd: ws.repo.dir, env: { ...noToken, NPM_TOKEN: wrong } });
    expect(refused.exitCode).toBe(1);
    expect(JSON.parse(refused.stdout).error).toMatchObject({ code: 'E_NPM_AUTH', message: expect.stringContaining('the token in NPM_TOKEN was refused') });
    for (const run of [missing, refused]) {
      expect(run.stderr + run.stdout).not.toContain(wrong);
      expect(run.stderr + run.stdout).not.toContain(ws.npm.token);
    }
    expect(await packument(ws.npm)).toBeUndefined();
    expect(ws.github.repo(REPOSITORY).releases).toHaveLength(0);
  });

  it('refuses (exit 2) a private package before anything is published', async () => {
    const ws = await npmWorkspace({ name: PACKAGE, version: '0.0.0', private: true });
    await ws.tagRelease('cli/v1.0.0');
    const run = await ws.publish('cli/v1.0.0');
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('packages/cli/package.json says "private": true');
    expect(puts(ws.npm)).toEqual([]);
  });
});

/** Runs slipway as its own process, so a crash point really kills it. */
function slipwayProcess(ws: NpmWorkspace, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  const bin = fileURLToPath(new URL('../bin/slipway.js', import.meta.url));
  return new Promise((done) => {
    execFile(process.execPath, [bin, ...args], { cwd: ws.repo.dir, env: { ...ws.env, ...env } }, (error, _stdout, stderr) => {
      const failure = error as (Error & { code?: number; signal?: string }) | null;
      done({ code: failure ? (typeof failure.code === 'number' ? failure.code : null) : 0, signal: failure?.signal ?? null, stderr });
    });
  });
}

describe('publish of an npm service: a crash between steps, then a re-run, ends where a clean run ends', () => {
  it.each(['push:cli', 'artifact:cli', 'release', 'manifest'])('crash after %s', async (step) => {
    const ws = await npmWorkspace();
    const commit = await ws.tagRelease('cli/v1.0.0');
    const manifestPath = join(ws.repo.root, 'manifest.json');
    const args = ['publish', 'cli/v1.0.0', '--manifest', manifestPath];

    // A killed process leaves its scratch folder behind: keep it inside the test's temp folder.
    const scratch = join(ws.repo.root, 'tmp');
    await mkdir(scratch);
    const crashed = await slipwayProcess(ws, args, { SLIPWAY_TEST_CRASH_AFTER: step, TMPDIR: scratch });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    const rerun = await slipwayProcess(ws, args);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).not.toContain(ws.npm.token);

    const registry = await packument(ws.npm);
    expect(Object.keys(registry?.versions ?? {})).toEqual(['1.0.0']);
    expect(registry?.['dist-tags']).toEqual({ latest: '1.0.0' });
    expect(puts(ws.npm)).toHaveLength(1);
    expect(ws.github.repo(REPOSITORY).releases.map((r) => r.tag_name)).toEqual(['cli/v1.0.0']);
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    expect(manifest).toMatchObject({ service: 'cli', tag: 'cli/v1.0.0', commit, tags: ['latest'], digest: await tarballSha256(ws.npm, '1.0.0') });
  });
});
