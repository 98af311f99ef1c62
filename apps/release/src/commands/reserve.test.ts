import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempRepo, startGitHubDouble, type GitHubDouble, type TempRepo } from '@slipway/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { GITHUB_TOKEN, REPOSITORY } from '../../test/fixtures.js';
import { runCli } from '../../test/run-cli.js';

interface Setup {
  repo: TempRepo;
  github: GitHubDouble;
  env: NodeJS.ProcessEnv;
}

/** A staging-line repo at 0.1.x (the base is the root package.json version, prerelease stripped). */
async function setup(options: { github: boolean; scheme?: string; version?: string }): Promise<Setup> {
  const github = await startGitHubDouble({ tokens: [GITHUB_TOKEN] });
  onTestFinished(() => github.close());
  const config = {
    ...(options.github ? { repository: REPOSITORY } : {}),
    scheme: options.scheme ?? 'staging-line',
    registry: 'oci-layout:.images',
    services: { api: { root: 'apps/api' }, cli: { root: 'apps/cli', kind: 'npm' } },
  };
  const repo = await createTempRepo({
    files: { 'services.json': JSON.stringify(config), 'package.json': JSON.stringify({ version: options.version ?? '0.1.2-rc.0' }) },
  });
  onTestFinished(repo.cleanup);
  github.repo(REPOSITORY, { origin: repo.dir });
  const env = { PATH: process.env['PATH'], NO_COLOR: '1', GITHUB_TOKEN, GITHUB_API_URL: github.url, HOME: repo.root, ...repo.env };
  return { repo, github, env };
}

const reserve = (cwd: string, env: NodeJS.ProcessEnv, ...extra: string[]) => runCli(['reserve', 'api', '--json', ...extra], { cwd, env });

describe('slipway reserve', () => {
  it('through GitHub refs: 8 concurrent reservations for 8 commits get 8 distinct N, each tag at its commit', async () => {
    const { repo, github, env } = await setup({ github: true });
    const commits: string[] = [];
    for (let i = 0; i < 8; i++) commits.push(await repo.commit(`feat: change ${String(i)}`, { [`f${String(i)}`]: String(i) }));

    // All start from the same hint (origin has no staging tags): the atomic create sorts them out.
    const runs = await Promise.all(commits.map((c) => reserve(repo.dir, env, '--commit', c)));

    const results = runs.map((r) => {
      expect(r.exitCode, r.stderr + r.stdout).toBe(0);
      return JSON.parse(r.stdout) as { n: number; version: string; commit: string; created: boolean };
    });
    expect(results.map((r) => r.n).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(results.every((r) => r.created)).toBe(true);
    const refs = github.repo(REPOSITORY).refs;
    expect(refs.size).toBe(8);
    for (const r of results) expect(refs.get(`refs/tags/${r.version}`)?.sha).toBe(r.commit);
    expect(results.map((r) => r.commit).sort()).toEqual([...commits].sort());
  });

  it('through git push: 8 concurrent reservations from 8 separate clones get 8 distinct N', async () => {
    const { repo, env } = await setup({ github: false });
    const clones = await Promise.all(Array.from({ length: 8 }, (_, i) => repo.clone(`ci-${String(i)}`)));
    const commits = await Promise.all(clones.map((c, i) => c.commit(`feat: job ${String(i)}`, { [`job${String(i)}`]: 'x' })));

    const runs = await Promise.all(clones.map((c) => reserve(c.dir, env)));

    const ns = runs.map((r, i) => {
      expect(r.exitCode, r.stderr + r.stdout).toBe(0);
      const result = JSON.parse(r.stdout) as { n: number; version: string; commit: string };
      expect(result.commit).toBe(commits[i]);
      return result.n;
    });
    expect([...ns].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const origin = await repo.git('-C', repo.origin, 'for-each-ref', '--format=%(refname:short) %(objectname)', 'refs/tags');
    expect(origin.split('\n').sort()).toEqual(ns.map((n, i) => `0.1.2-staging.${String(n)} ${commits[i] ?? ''}`).sort());
  });

  it('starts above the highest N on origin and reuses the N already at this commit', async () => {
    const { repo, github, env } = await setup({ github: true });
    await repo.tag('0.1.2-staging.4', { ref: repo.initialCommit });
    await repo.tag('0.1.1-staging.9', { ref: repo.initialCommit });
    await repo.push('--tags');
    const commit = await repo.commit('feat: next', { x: '1' });

    const first = await reserve(repo.dir, env);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ version: '0.1.2-staging.5', tag: '0.1.2-staging.5', n: 5, created: true, commit });
    // GitHub made the tag; a fetch would bring it to origin's clones. Mirror that, then re-run.
    await repo.tag('0.1.2-staging.5');
    await repo.push('refs/tags/0.1.2-staging.5');
    const again = await reserve(repo.dir, env);
    expect(JSON.parse(again.stdout)).toMatchObject({ version: '0.1.2-staging.5', created: false });
    expect(github.repo(REPOSITORY).refs.size).toBe(1);
  });

  it('a re-run at the same commit finds its own tag even when the hint misses it', async () => {
    const { repo, github, env } = await setup({ github: true });
    const first = JSON.parse((await reserve(repo.dir, env)).stdout);
    const again = await reserve(repo.dir, env);
    expect(again.exitCode).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ version: first.version, created: false });
    expect(github.repo(REPOSITORY).refs.size).toBe(1);
  });

  it('--version-override reserves exactly V; an existing V is accepted only at this commit (else exit 3)', async () => {
    const { repo, github, env } = await setup({ github: true });
    const run = await reserve(repo.dir, env, '--version-override', '0.1.2-staging.99');
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ version: '0.1.2-staging.99', n: 99, created: true });

    const same = await reserve(repo.dir, env, '--version-override', '0.1.2-staging.99');
    expect(same.exitCode).toBe(0);
    expect(JSON.parse(same.stdout).created).toBe(false);

    await repo.commit('feat: other', { y: '1' });
    const other = await reserve(repo.dir, env, '--version-override', '0.1.2-staging.99');
    expect(other.exitCode).toBe(3);
    expect(JSON.parse(other.stdout).error).toMatchObject({ code: 'E_STAGING_TAG_TAKEN' });
    expect(github.repo(REPOSITORY).refs.get('refs/tags/0.1.2-staging.99')?.sha).toBe(repo.initialCommit);

    const bad = await reserve(repo.dir, env, '--version-override', '0.1.2-rc.1');
    expect(bad.exitCode).toBe(2);
  });

  it('without GitHub, an override taken at another commit on origin is exit 3 too', async () => {
    const { repo, env } = await setup({ github: false });
    await repo.tag('0.1.2-staging.7');
    await repo.push('refs/tags/0.1.2-staging.7');
    await repo.commit('feat: later', { z: '1' });
    const run = await reserve(repo.dir, env, '--version-override', '0.1.2-staging.7');
    expect(run.exitCode).toBe(3);
    expect(JSON.parse(run.stdout).error.message).toContain('accepts an existing tag only at this commit');
  });

  it('--dry-run says which N it would take and creates nothing', async () => {
    const { repo, github, env } = await setup({ github: true });
    const run = await reserve(repo.dir, env, '--dry-run');
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ version: '0.1.2-staging.0', created: false, dryRun: true });
    expect(github.repo(REPOSITORY).refs.size).toBe(0);
    expect(github.state.requests.filter((r) => r.method === 'POST')).toEqual([]);
  });

  it('writes version, tag and n to $GITHUB_OUTPUT for the build jobs', async () => {
    const { repo, env } = await setup({ github: false });
    const output = join(repo.root, 'github-output');
    const run = await reserve(repo.dir, { ...env, GITHUB_OUTPUT: output });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(await readFile(output, 'utf8')).toBe('version=0.1.2-staging.0\ntag=0.1.2-staging.0\nn=0\n');
  });

  it.each([
    ['another scheme', { scheme: 'per-service' }, ['reserve', 'api'], /staging-line/],
    ['an unknown service', {}, ['reserve', 'web'], /unknown service "web"/],
    ['an npm service', {}, ['reserve', 'cli'], /npm service/],
    ['a package.json version that is not semver', { version: 'latest' }, ['reserve', 'api'], /"version" is "latest"/],
  ])('refuses %s (exit 2)', async (_what, options, argv, reason) => {
    const { repo, env } = await setup({ github: false, ...options });
    const run = await runCli(argv, { cwd: repo.dir, env });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(reason);
    expect(await repo.git('-C', repo.origin, 'tag', '-l')).toBe('');
  });
});
