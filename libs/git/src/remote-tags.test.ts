import { createTempRepo } from '@slipway/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createGit } from './index.js';

async function setup() {
  const repo = await createTempRepo();
  onTestFinished(repo.cleanup);
  return { repo, git: createGit({ cwd: repo.dir, env: repo.env }) };
}

describe('listRemoteTags', () => {
  it("lists origin's tags under a prefix with their commits, annotated tags peeled", async () => {
    const { repo, git } = await setup();
    const second = await repo.commit('feat: two', { a: '2' });
    await repo.tag('0.1.0-staging.0', { ref: repo.initialCommit });
    await repo.tag('0.1.0-staging.1', { message: 'annotated' });
    await repo.tag('0.1.0', {});
    await repo.tag('x/0.1.0-staging.7', {});
    await repo.push('--tags');
    await repo.tag('0.1.0-staging.2', {}); // local only: not on origin

    const tags = await git.listRemoteTags('0.1.0-staging.');
    const byName = new Map(tags.map((t) => [t.name, t]));
    expect([...byName.keys()].sort()).toEqual(['0.1.0-staging.0', '0.1.0-staging.1']);
    expect(byName.get('0.1.0-staging.0')).toMatchObject({ commit: repo.initialCommit, object: repo.initialCommit });
    expect(byName.get('0.1.0-staging.1')?.commit).toBe(second);
    expect(byName.get('0.1.0-staging.1')?.object).not.toBe(second);
  });

  it('is empty when origin has none', async () => {
    const { git } = await setup();
    expect(await git.listRemoteTags('9.9.9-staging.')).toEqual([]);
  });
});

describe('readFileAt', () => {
  it('reads a file as committed, not as the working tree has it, and undefined for a missing one', async () => {
    const { repo, git } = await setup();
    const first = await repo.commit('chore: v1', { 'package.json': '{"version":"1.0.0"}\n' });
    await repo.commit('chore: v2', { 'package.json': '{"version":"2.0.0"}\n' });
    await repo.write({ 'package.json': 'dirty' });

    expect(await git.readFileAt({ commit: first, path: 'package.json' })).toBe('{"version":"1.0.0"}\n');
    expect(await git.readFileAt({ commit: 'HEAD', path: 'package.json' })).toBe('{"version":"2.0.0"}\n');
    expect(await git.readFileAt({ commit: first, path: 'docs/missing.md' })).toBeUndefined();
    await expect(git.readFileAt({ commit: 'nope', path: 'package.json' })).rejects.toMatchObject({ code: 'E_GIT_REF_NOT_FOUND' });
  });

  it('answers undefined, not a failure, when an untracked file sits at the path', async () => {
    const { repo, git } = await setup();
    await repo.write({ 'deploy/staging/api.yaml': 'left behind by a crash\n' });
    expect(await git.readFileAt({ commit: 'HEAD', path: 'deploy/staging/api.yaml' })).toBeUndefined();
  });
});

describe('readFilesAt', () => {
  it('reads many files at many commits in one call, byte for byte, undefined where there is none', async () => {
    const { repo, git } = await setup();
    const first = await repo.commit('chore: v1', { 'a.yaml': 'ünï\n', 'dir/b.yaml': 'no newline' });
    const second = await repo.commit('chore: v2', { 'a.yaml': '', 'dir/b.yaml': null });
    await repo.write({ 'dir/b.yaml': 'untracked\n' });

    expect(
      await git.readFilesAt([
        { commit: first, path: 'a.yaml' },
        { commit: first, path: 'dir/b.yaml' },
        { commit: second, path: 'a.yaml' },
        { commit: second, path: 'dir/b.yaml' },
        { commit: first, path: 'dir' },
        { commit: repo.initialCommit, path: 'README.md' },
      ]),
    ).toEqual(['ünï\n', 'no newline', '', undefined, undefined, '# test repo\n']);
    expect(await git.readFilesAt([])).toEqual([]);
    await expect(git.readFilesAt([{ commit: first, path: 'a\nb' }])).rejects.toMatchObject({ name: 'InvalidRefError' });
  });
});
