import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createTempRepo } from '@slipway/testing';
import { createGit } from './create-git.js';
import { GitError } from './errors.js';
import { cloneRepository } from './work-tree.js';

async function setup() {
  const repo = await createTempRepo();
  onTestFinished(repo.cleanup);
  return { repo, git: createGit({ cwd: repo.dir, env: repo.env }) };
}

describe('commitFiles', () => {
  it('commits exactly the named paths, leaving other staged and unstaged changes alone', async () => {
    const { repo, git } = await setup();
    await repo.write({ 'deploy/staging/api.yaml': 'digest: a\n', 'other.txt': 'staged\n', 'README.md': 'edited\n' });
    await repo.git('add', 'other.txt');

    const sha = await git.commitFiles({ paths: ['deploy/staging/api.yaml'], message: 'promote api\n\nSlipway-Service: api\n' });

    expect(sha).toBe(await repo.revParse());
    expect(await repo.git('show', '--format=', '--name-only', 'HEAD')).toBe('deploy/staging/api.yaml');
    expect(await repo.git('log', '-1', '--format=%B')).toBe('promote api\n\nSlipway-Service: api\n');
    expect(await repo.git('status', '--porcelain')).toBe(' M README.md\nA  other.txt');
  });

  it('makes no empty commit when the paths did not change', async () => {
    const { repo, git } = await setup();
    const before = await repo.revParse();
    await repo.write({ 'README.md': '# test repo\n' });

    expect(await git.commitFiles({ paths: ['README.md'], message: 'nothing' })).toBeUndefined();
    expect(await repo.revParse()).toBe(before);
  });

  it('takes paths literally from the top of the work tree, whatever the cwd, and commits deletions', async () => {
    const { repo } = await setup();
    await repo.commit('chore: files', { 'deploy/[x].yaml': 'a\n', 'deploy/gone.yaml': 'b\n' });
    const git = createGit({ cwd: join(repo.dir, 'deploy'), env: repo.env });
    await repo.write({ 'deploy/[x].yaml': 'c\n', 'deploy/gone.yaml': null });

    await git.commitFiles({ paths: ['deploy/[x].yaml', 'deploy/gone.yaml'], message: 'edit' });

    expect((await repo.git('show', '--format=', '--name-status', 'HEAD')).split('\n').sort()).toEqual(['D\tdeploy/gone.yaml', 'M\tdeploy/[x].yaml']);
  });

  it('sets author and, for clones without an identity, the committer', async () => {
    const { repo, git } = await setup();
    await repo.git('config', '--unset', 'user.name');
    await repo.git('config', '--unset', 'user.email');
    await repo.write({ 'a.txt': 'a\n' });

    await git.commitFiles({
      paths: ['a.txt'],
      message: 'm',
      author: { name: 'alice', email: 'alice@users.noreply.github.com' },
      committer: { name: 'slipway', email: 'slipway@localhost' },
    });

    expect(await repo.git('log', '-1', '--format=%an <%ae>|%cn <%ce>')).toBe('alice <alice@users.noreply.github.com>|slipway <slipway@localhost>');
  });

  it('refuses paths outside the work tree before running git', async () => {
    const { git } = await setup();
    await expect(git.commitFiles({ paths: ['../x'], message: 'm' })).rejects.toMatchObject({ name: 'InvalidRefError', exitCode: 2 });
    await expect(git.commitFiles({ paths: ['/etc/passwd'], message: 'm' })).rejects.toMatchObject({ name: 'InvalidRefError' });
    await expect(git.commitFiles({ paths: [], message: 'm' })).rejects.toMatchObject({ name: 'InvalidRefError' });
  });
});

describe('reset', () => {
  it('hard discards local changes; keep drops a commit but keeps unrelated edits', async () => {
    const { repo, git } = await setup();
    const base = await repo.revParse();
    const next = await repo.commit('chore: pin', { 'pin.yaml': 'x\n' });
    await repo.write({ 'README.md': 'local edit\n' });

    await git.reset(`${next}^`, 'keep');
    expect(await repo.revParse()).toBe(base);
    expect(await readFile(join(repo.dir, 'README.md'), 'utf8')).toBe('local edit\n');

    await git.reset(base, 'hard');
    expect(await repo.git('status', '--porcelain')).toBe('');
    await expect(git.reset('nope', 'hard')).rejects.toMatchObject({ name: 'RefNotFoundError' });
  });
});

describe('currentBranch, workTreeRoot, hasOrigin, configValue', () => {
  it('describe the checkout', async () => {
    const { repo, git } = await setup();
    expect(await git.currentBranch()).toBe('main');
    expect(await git.workTreeRoot()).toBe(repo.dir);
    expect(await git.hasOrigin()).toBe(true);
    expect(await git.configValue('user.name')).toBe('Slipway Test');
    expect(await git.configValue('slipway.missing')).toBeUndefined();

    await repo.git('checkout', '--quiet', '--detach');
    expect(await git.currentBranch()).toBeUndefined();
    await repo.git('remote', 'remove', 'origin');
    expect(await git.hasOrigin()).toBe(false);
  });

  it('say "no work tree" for a bare repository and for a plain folder', async () => {
    const { repo } = await setup();
    expect(await createGit({ cwd: repo.origin, env: repo.env }).workTreeRoot()).toBeUndefined();
    const plain = join(repo.root, 'plain');
    await mkdir(plain);
    expect(await createGit({ cwd: plain, env: { ...repo.env, GIT_CEILING_DIRECTORIES: repo.root } }).workTreeRoot()).toBeUndefined();
  });
});

describe('cloneRepository', () => {
  it('clones the default branch without tags, creating parent folders', async () => {
    const { repo } = await setup();
    await repo.tag('v1.0.0');
    await repo.push('v1.0.0');
    const dir = join(repo.root, 'cache', 'nested', 'pins');

    await cloneRepository({ url: repo.origin, dir, env: repo.env });

    const clone = createGit({ cwd: dir, env: repo.env });
    expect(await clone.currentBranch()).toBe('main');
    expect(await clone.resolveCommit('HEAD')).toBe(repo.initialCommit);
    expect(await clone.listTags()).toEqual([]);
  });

  it('fails with a redacted GitError for an unreachable URL', async () => {
    const { repo } = await setup();
    const error = await cloneRepository({
      url: 'https://x-access-token:ghp_secret123@127.0.0.1:9/acme/infra.git',
      dir: join(repo.root, 'c'),
      env: repo.env,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitError);
    expect(String((error as GitError).message)).not.toContain('ghp_secret123');
  });
});

describe('workTreeState', () => {
  it('names HEAD’s tree and nothing else on a clean work tree', async () => {
    const { repo, git } = await setup();
    const state = await git.workTreeState();
    expect(state).toEqual({ top: repo.dir, tree: await repo.git('rev-parse', 'HEAD^{tree}'), changed: [] });
  });

  it('lists modified, staged, deleted and untracked paths from the top, and never ignored ones', async () => {
    const { repo } = await setup();
    await repo.commit('chore: files', { '.gitignore': 'out/\n', 'apps/api/main.ts': 'a\n', 'gone.txt': 'b\n', 'staged.txt': 'c\n' });
    await repo.write({ 'apps/api/main.ts': 'changed\n', 'staged.txt': 'staged\n', 'apps/api/new dir/new file.ts': 'new\n', 'out/build.js': 'ignored\n' });
    await repo.git('add', 'staged.txt');
    await repo.git('rm', '--quiet', 'gone.txt');
    // From a subfolder: paths stay relative to the top.
    const state = await createGit({ cwd: join(repo.dir, 'apps'), env: repo.env }).workTreeState();
    expect(state?.top).toBe(repo.dir);
    expect(state?.changed).toEqual(['apps/api/main.ts', 'apps/api/new dir/new file.ts', 'gone.txt', 'staged.txt']);
  });

  it('has no tree before the first commit, and no state outside a repository', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slipway-git-state-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    expect(await createGit({ cwd: dir }).workTreeState()).toBeUndefined();
    execFileSync('git', ['init', '--quiet', dir]);
    await writeFile(join(dir, 'a.txt'), 'a\n');
    expect(await createGit({ cwd: dir }).workTreeState()).toEqual({ top: dir, tree: undefined, changed: ['a.txt'] });
  });
});

describe('treeEntries', () => {
  it('tells folders, files, symlinks and submodules of a commit apart, and leaves out what is not there', async () => {
    const { repo, git } = await setup();
    await repo.write({ 'deploy/staging/api.yaml': 'a\n' });
    await symlink('/tmp', join(repo.dir, 'deploy', 'canary'));
    const commit = await repo.commit('chore: layout');

    const entries = await git.treeEntries(commit, ['deploy', 'deploy/staging', 'deploy/staging/api.yaml', 'deploy/canary', 'deploy/canary/api.yaml', 'nope']);
    expect(Object.fromEntries(entries)).toEqual({
      deploy: { mode: '040000', type: 'tree' },
      'deploy/staging': { mode: '040000', type: 'tree' },
      'deploy/staging/api.yaml': { mode: '100644', type: 'blob' },
      'deploy/canary': { mode: '120000', type: 'blob' },
    });
    await expect(git.treeEntries(commit, ['../x'])).rejects.toMatchObject({ name: 'InvalidRefError' });
  });
});

describe('addWorktree', () => {
  it('makes a linked work tree at a commit with nothing checked out, and recreates one whose folder was deleted', async () => {
    const { repo, git } = await setup();
    const dir = join(repo.root, 'own');
    await git.addWorktree({ dir, commit: repo.initialCommit });
    const own = createGit({ cwd: dir, env: repo.env });
    expect(await own.workTreeRoot()).toBe(dir);
    expect(await own.currentBranch()).toBeUndefined();
    expect(await own.resolveCommit('HEAD')).toBe(repo.initialCommit);
    await expect(readFile(join(dir, 'README.md'))).rejects.toMatchObject({ code: 'ENOENT' });

    // A commit made there carries the commit's other files and leaves the main work tree alone.
    await own.reset(repo.initialCommit, 'mixed');
    await writeFile(join(dir, 'pin.yaml'), 'x\n');
    const sha = await own.commitFiles({ paths: ['pin.yaml'], message: 'pin' });
    expect((await repo.git('ls-tree', '--name-only', sha ?? '')).split('\n')).toEqual(['README.md', 'pin.yaml']);
    expect(await repo.revParse()).toBe(repo.initialCommit);
    expect(await repo.git('status', '--porcelain')).toBe('');

    await rm(dir, { recursive: true, force: true });
    await git.addWorktree({ dir, commit: repo.initialCommit });
    expect(await createGit({ cwd: dir, env: repo.env }).workTreeRoot()).toBe(dir);
  });
});
