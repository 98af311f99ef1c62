import { describe, expect, it, onTestFinished } from 'vitest';
import { createTempRepo } from '@slipway/testing';
import { createGit } from './create-git.js';

async function threeServices() {
  const repo = await createTempRepo();
  onTestFinished(repo.cleanup);
  const a1 = await repo.commit('feat(api): one', { 'apps/api/a': '1' });
  await repo.tag('api/v1.0.0', { message: 'api 1.0.0' });
  const v1 = await repo.commit('feat(vault): one', { 'apps/vault/a': '1' });
  await repo.tag('vault/v0.1.0');
  const c1 = await repo.commit('feat(cli): one', { 'apps/cli/a': '1' });
  await repo.tag('cli/v2.0.0', { message: 'cli 2.0.0' });
  const a2 = await repo.commit('fix(api): two', { 'apps/api/a': '2' });
  await repo.tag('api/v1.0.1');
  await repo.tag('api/v1.1.0-rc.1', { message: 'rc' });
  await repo.tag('apiary/v9.9.9', { message: 'not api' });
  return { repo, git: createGit({ cwd: repo.dir, env: repo.env }), a1, a2, v1, c1 };
}

describe('listTags', () => {
  it('lists one service’s tags with peeled commits for annotated and lightweight tags', async () => {
    const { git, repo, a1, a2 } = await threeServices();
    const tags = await git.listTags('api/v');

    const tagObject = await repo.git('rev-parse', 'refs/tags/api/v1.0.0');
    expect(tags).toEqual([
      { name: 'api/v1.0.0', object: tagObject, commit: a1, annotated: true, date: '2024-01-01T00:02:00.000Z' },
      { name: 'api/v1.0.1', object: a2, commit: a2, annotated: false, date: '2024-01-01T00:07:00.000Z' },
      expect.objectContaining({ name: 'api/v1.1.0-rc.1', commit: a2, annotated: true, date: '2024-01-01T00:09:00.000Z' }),
    ]);
    expect(tagObject).not.toBe(a1);
  });

  it('matches prefixes literally, not by path component', async () => {
    const { git } = await threeServices();
    expect((await git.listTags('api/')).map((t) => t.name)).toEqual(['api/v1.0.0', 'api/v1.0.1', 'api/v1.1.0-rc.1']);
    expect((await git.listTags('api')).map((t) => t.name)).toContain('apiary/v9.9.9');
    expect((await git.listTags('a')).map((t) => t.name)).toHaveLength(4);
    expect(await git.listTags('nope/')).toEqual([]);
  });

  it('answers several prefixes, or all tags, in one call', async () => {
    const { git, v1, c1 } = await threeServices();
    const some = await git.listTags(['vault/v', 'cli/v']);
    expect(some.map((t) => [t.name, t.commit])).toEqual([
      ['cli/v2.0.0', c1],
      ['vault/v0.1.0', v1],
    ]);
    expect(await git.listTags()).toHaveLength(6);
    expect(await git.listTags('')).toHaveLength(6);
  });

  it('peels a tag of a tag to its commit and skips tags that name no commit', async () => {
    const { git, repo, a1 } = await threeServices();
    await repo.git('tag', '-a', '-m', 'outer', 'nested/outer', 'api/v1.0.0');
    const tree = await repo.git('rev-parse', 'HEAD^{tree}');
    await repo.git('tag', 'nested/tree', tree);

    const tags = await git.listTags('nested/');
    expect(tags).toEqual([expect.objectContaining({ name: 'nested/outer', commit: a1, annotated: true })]);
  });
});
