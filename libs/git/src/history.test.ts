import { describe, expect, it, onTestFinished } from 'vitest';
import { createTempRepo } from '@slipway/testing';
import { createGit } from './create-git.js';
import { GitError, InvalidRefError, RefNotFoundError } from './errors.js';

async function setup() {
  const repo = await createTempRepo();
  onTestFinished(repo.cleanup);
  return { repo, git: createGit({ cwd: repo.dir, env: repo.env }) };
}

describe('isAncestor', () => {
  it('is true for ancestors and the commit itself, false for commits off the line', async () => {
    const { repo, git } = await setup();
    const base = await repo.commit('feat: base', { a: '1' });
    await repo.tag('api/v1.0.0', { message: 'annotated' });
    await repo.git('checkout', '--quiet', '-b', 'feature');
    const side = await repo.commit('feat: side', { b: '1' });
    await repo.git('checkout', '--quiet', 'main');
    const tip = await repo.commit('feat: tip', { c: '1' });

    expect(await git.isAncestor(base, 'main')).toBe(true);
    expect(await git.isAncestor('api/v1.0.0', tip)).toBe(true);
    expect(await git.isAncestor(tip, tip)).toBe(true);
    expect(await git.isAncestor(side, 'main')).toBe(false);
    expect(await git.isAncestor(tip, base)).toBe(false);
  });

  it('throws for a revision that does not exist instead of answering false', async () => {
    const { git } = await setup();
    const error = await git.isAncestor('api/v9.9.9', 'main').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RefNotFoundError);
    expect(error).toMatchObject({ code: 'E_GIT_REF_NOT_FOUND', exitCode: 1, status: 128 });
    await expect(git.isAncestor('main', '0'.repeat(40))).rejects.toBeInstanceOf(GitError);
  });

  it('refuses revisions that git would read as options', async () => {
    const { git } = await setup();
    await expect(git.isAncestor('--all', 'main')).rejects.toBeInstanceOf(InvalidRefError);
    await expect(git.isAncestor('--all', 'main')).rejects.toMatchObject({ exitCode: 2 });
  });
});

describe('tagsMergedInto and filesAgainstParents', () => {
  it('names the tags reachable from a ref in one call, prefix by prefix', async () => {
    const { repo, git } = await setup();
    await repo.commit('feat: on main', { a: '1' });
    await repo.tag('api/v1.0.0', { message: 'annotated' });
    await repo.tag('web/v1.0.0');
    await repo.git('checkout', '--quiet', '-b', 'next');
    await repo.commit('feat: abandoned', { a: '2' });
    await repo.tag('api/v2.0.0-alpha.0', { message: 'annotated' });
    expect([...(await git.tagsMergedInto('main'))].sort()).toEqual(['api/v1.0.0', 'web/v1.0.0']);
    expect([...(await git.tagsMergedInto('main', ['api/v']))]).toEqual(['api/v1.0.0']);
    expect([...(await git.tagsMergedInto('next', 'api/'))].sort()).toEqual(['api/v1.0.0', 'api/v2.0.0-alpha.0']);
    await expect(git.tagsMergedInto('nope')).rejects.toBeInstanceOf(GitError);
  });

  it('lists a merge\'s files against each of its other parents, empty diffs included', async () => {
    const { repo, git } = await setup();
    await repo.git('checkout', '--quiet', '-b', 'feature');
    const side = await repo.commit('feat: side', { 'apps/b/x': '1' });
    await repo.git('checkout', '--quiet', 'main');
    await repo.git('merge', '--quiet', '--no-ff', '-m', 'take the side', 'feature');
    const merge = await repo.revParse();
    await repo.git('checkout', '--quiet', '-b', 'other', repo.initialCommit);
    const ignored = await repo.commit('feat: ignored', { 'apps/c/y': '1' });
    await repo.git('checkout', '--quiet', 'main');
    await repo.git('merge', '--quiet', '--no-ff', '-s', 'ours', '-m', 'ours', 'other');
    const ours = await repo.revParse();
    const files = await git.filesAgainstParents([
      { commit: merge, parent: side },
      { commit: ours, parent: ignored },
      { commit: merge, parent: repo.initialCommit },
    ]);
    expect(files).toEqual([[], ['apps/b/x', 'apps/c/y'], ['apps/b/x']]);
    expect(await git.filesAgainstParents([])).toEqual([]);
  });
});

describe('resolveCommit', () => {
  it('peels tags and branches to commits', async () => {
    const { repo, git } = await setup();
    const sha = await repo.commit('feat: x', { a: '1' });
    await repo.tag('v1', { message: 'annotated' });
    expect(await git.resolveCommit('v1')).toBe(sha);
    expect(await git.resolveCommit('refs/tags/v1')).toBe(sha);
    expect(await git.resolveCommit('main~1')).toBe(repo.initialCommit);
    expect(await git.resolveCommit(sha.slice(0, 10))).toBe(sha);
  });

  it('throws RefNotFoundError for missing refs', async () => {
    const { git } = await setup();
    await expect(git.resolveCommit('nope')).rejects.toMatchObject({ name: 'RefNotFoundError', ref: 'nope' });
  });
});

describe('logBetween', () => {
  it('reads raw messages: the subject is the first line, never a paragraph joined into one', async () => {
    const { repo, git } = await setup();
    const joined = await repo.commit('fix(a): x\nfix(b): y', { a: '1' });
    const footer = await repo.commit('feat: z\nBREAKING CHANGE: gone', { a: '2' });
    const commits = await git.logBetween({ from: repo.initialCommit, to: 'main' });
    expect(commits.map((c) => [c.sha, c.subject, c.body, c.message])).toEqual([
      [footer, 'feat: z', 'BREAKING CHANGE: gone', 'feat: z\nBREAKING CHANGE: gone'],
      [joined, 'fix(a): x', 'fix(b): y', 'fix(a): x\nfix(b): y'],
    ]);
  });

  it('a path-limited log is exactly `git log <range> -- <paths>`: merges that only brought a side are left out', async () => {
    const { repo, git } = await setup();
    await repo.git('checkout', '--quiet', '-b', 'feature');
    const side = await repo.commit('feat(api): side', { 'apps/api/b.ts': '1' });
    await repo.git('checkout', '--quiet', 'main');
    await repo.commit('docs: readme', { 'README.md': 'more' });
    await repo.git('merge', '--quiet', '--no-ff', '-m', 'Merge pull request #1 from acme/feature', 'feature');
    const merge = await repo.revParse();
    const expected = (await repo.git('log', '--format=%H', `${repo.initialCommit}..main`, '--', 'apps/api')).split('\n');
    const commits = await git.logBetween({ from: repo.initialCommit, to: 'main', paths: ['apps/api'] });
    expect(commits.map((c) => c.sha)).toEqual(expected);
    expect(commits.map((c) => c.sha)).toEqual([side]);
    // Unlimited, the merge is there, with its files against its first parent.
    const all = await git.logBetween({ from: repo.initialCommit, to: 'main' });
    expect(all.find((c) => c.sha === merge)?.files).toEqual(['apps/api/b.ts']);
  });

  it('lists commits between refs that touch the paths, with all their files, newest first', async () => {
    const { repo, git } = await setup();
    await repo.commit('feat(api): before', { 'apps/api/a.ts': '0' });
    await repo.tag('api/v1.0.0', { message: 'api 1.0.0' });
    const shared = await repo.commit('feat(shared)!: new contract\n\nBREAKING CHANGE: renamed\n\nRefs: #12', {
      'libs/shared/index.ts': '1',
      'apps/api/a.ts': '1',
      'apps/vault/v.ts': '1',
    });
    await repo.commit('docs: readme', { 'README.md': 'more' });
    const onlyVault = await repo.commit('fix(vault): x', { 'apps/vault/v.ts': '2' });
    const apiFix = await repo.commit('fix(api): y (#34)', { 'apps/api/b.ts': '1' }, { author: { name: 'Ada', email: 'ada@example.com' } });

    const commits = await git.logBetween({ from: 'api/v1.0.0', to: 'main', paths: ['apps/api', 'libs/shared'] });

    expect(commits.map((c) => c.sha)).toEqual([apiFix, shared]);
    expect(commits[0]).toEqual({
      sha: apiFix,
      parents: [onlyVault],
      subject: 'fix(api): y (#34)',
      body: '',
      author: { name: 'Ada', email: 'ada@example.com' },
      date: '2024-01-01T00:06:00+00:00',
      commitTime: Date.parse('2024-01-01T00:06:00Z') / 1000,
      message: 'fix(api): y (#34)',
      files: ['apps/api/b.ts'],
    });
    expect(commits[1]).toMatchObject({
      subject: 'feat(shared)!: new contract',
      body: 'BREAKING CHANGE: renamed\n\nRefs: #12',
      files: ['apps/api/a.ts', 'apps/vault/v.ts', 'libs/shared/index.ts'],
    });
  });

  it('takes paths literally from the repository root', async () => {
    const { repo, git } = await setup();
    await repo.commit('feat: star', { 'apps/a*b/x': '1' });
    await repo.commit('feat: other', { 'apps/aXb/x': '1' });
    const commits = await git.logBetween({ to: 'HEAD', paths: ['apps/a*b'] });
    expect(commits.map((c) => c.subject)).toEqual(['feat: star']);
  });

  it('reports renames as both paths, odd file names intact, and merges against their first parent', async () => {
    const { repo, git } = await setup();
    const content = 'same content, so git would detect a rename\n';
    await repo.commit('feat: add', { 'apps/api/old name.ts': content });
    const start = await repo.revParse();
    await repo.commit('refactor: move', { 'apps/api/old name.ts': null, 'apps/vault/new\tname.ts': content });
    expect(await repo.git('show', '-M', '--name-status', '--format=', 'HEAD')).toMatch(/^R100/);
    await repo.git('checkout', '--quiet', '-b', 'feature');
    await repo.commit('feat: side', { 'libs/side.ts': '1' });
    await repo.git('checkout', '--quiet', 'main');
    await repo.commit('feat: main', { 'libs/main.ts': '1' });
    await repo.git('merge', '--quiet', '--no-ff', '-m', 'Merge feature', 'feature');

    const commits = await git.logBetween({ from: start, to: 'HEAD' });
    const bySubject = Object.fromEntries(commits.map((c) => [c.subject, c]));
    expect(commits).toHaveLength(4);
    expect(bySubject['refactor: move']?.files).toEqual(['apps/api/old name.ts', 'apps/vault/new\tname.ts']);
    expect(bySubject['Merge feature']?.files).toEqual(['libs/side.ts']);
    expect(bySubject['Merge feature']?.parents).toHaveLength(2);
  });

  it('throws RefNotFoundError for an unknown lower bound', async () => {
    const { git } = await setup();
    await expect(git.logBetween({ from: 'api/v0.0.0', to: 'HEAD' })).rejects.toBeInstanceOf(RefNotFoundError);
  });
});

describe('changedFiles', () => {
  it('lists files changed on head since it left base', async () => {
    const { repo, git } = await setup();
    await repo.git('checkout', '--quiet', '-b', 'feature');
    await repo.commit('feat: f', { 'apps/api/x.ts': '1', 'README.md': null });
    await repo.git('checkout', '--quiet', 'main');
    await repo.commit('feat: main moved on', { 'apps/vault/y.ts': '1' });

    expect(await git.changedFiles('main', 'feature')).toEqual(['README.md', 'apps/api/x.ts']);
    expect(await git.changedFiles('feature', 'feature')).toEqual([]);
    await expect(git.changedFiles('nope', 'feature')).rejects.toBeInstanceOf(RefNotFoundError);
  });
});
