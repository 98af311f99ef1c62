import { describe, expect, it, onTestFinished } from 'vitest';
import { createTempRepo } from '@slipway/testing';
import { createGit } from './create-git.js';
import { InvalidRefError, RefNotFoundError } from './errors.js';

async function setup() {
  const repo = await createTempRepo();
  onTestFinished(repo.cleanup);
  return { repo, git: createGit({ cwd: repo.dir, env: repo.env }) };
}

describe('mergeBase', () => {
  it('finds the best common ancestor of many refs in one call (octopus)', async () => {
    const { repo, git } = await setup();
    const fork = await repo.commit('feat: fork point', { a: '1' });
    await repo.git('checkout', '--quiet', '-b', 'one');
    const one = await repo.commit('feat: one', { b: '1' });
    await repo.git('checkout', '--quiet', '-b', 'two', fork);
    const two = await repo.commit('feat: two', { c: '1' });
    await repo.git('checkout', '--quiet', 'main');
    const tip = await repo.commit('feat: main', { d: '1' });
    await repo.tag('api/v1.0.0', { message: 'annotated', ref: one });

    expect(await git.mergeBase('api/v1.0.0', two, tip)).toBe(fork);
    expect(await git.mergeBase(one, fork)).toBe(fork);
    // One ref is its own merge base; tags peel to their commit.
    expect(await git.mergeBase('api/v1.0.0')).toBe(one);
    expect(await git.mergeBase(tip)).toBe(tip);
  });

  it('is undefined for histories that share no commit', async () => {
    const { repo, git } = await setup();
    await repo.git('checkout', '--quiet', '--orphan', 'island');
    const island = await repo.commit('chore: unrelated root', { x: '1' });
    expect(await git.mergeBase(island, repo.initialCommit)).toBeUndefined();
  });

  it('throws for refs that do not exist and refuses option-like refs', async () => {
    const { git } = await setup();
    await expect(git.mergeBase('main', 'api/v9.9.9')).rejects.toBeInstanceOf(RefNotFoundError);
    await expect(git.mergeBase('--all')).rejects.toBeInstanceOf(InvalidRefError);
    await expect(git.mergeBase()).rejects.toMatchObject({ exitCode: 2 });
  });
});
