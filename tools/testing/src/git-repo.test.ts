import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createTempRepo } from './git-repo.js';

describe('createTempRepo', () => {
  it('creates a work tree on main with a bare origin holding the initial commit', async () => {
    const repo = await createTempRepo();
    onTestFinished(repo.cleanup);

    expect(await repo.git('symbolic-ref', '--short', 'HEAD')).toBe('main');
    expect(await repo.git('rev-parse', '--is-bare-repository')).toBe('false');
    expect(await repo.git('-C', repo.origin, 'rev-parse', '--is-bare-repository')).toBe('true');
    expect(await repo.git('-C', repo.origin, 'rev-parse', 'refs/heads/main')).toBe(repo.initialCommit);
    expect(await repo.git('config', 'commit.gpgsign')).toBe('false');
    expect(await repo.git('config', 'tag.gpgSign')).toBe('false');
    expect(await repo.git('config', 'gc.auto')).toBe('0');
  });

  it('commits files (and deletions) with dates from a deterministic clock', async () => {
    const repo = await createTempRepo();
    onTestFinished(repo.cleanup);

    const first = await repo.commit('feat: add api', { 'apps/api/main.ts': 'x', 'apps/api/old.ts': 'y' });
    const second = await repo.commit('fix: drop old', { 'apps/api/old.ts': null });

    expect(await repo.git('rev-parse', 'HEAD~1')).toBe(first);
    expect(await repo.git('rev-parse', 'HEAD')).toBe(second);
    expect(await repo.git('show', '--name-status', '--format=', second)).toBe('D\tapps/api/old.ts');
    const dates = (await repo.git('log', '--format=%aI', '-3')).split('\n');
    expect(dates).toEqual(['2024-01-01T00:02:00+00:00', '2024-01-01T00:01:00+00:00', '2024-01-01T00:00:00+00:00']);
  });

  it('makes annotated and lightweight tags and pushes them', async () => {
    const repo = await createTempRepo();
    onTestFinished(repo.cleanup);
    const sha = await repo.commit('feat: x', { a: '1' });

    expect(await repo.tag('api/v1.0.0', { message: 'api 1.0.0' })).toBe(sha);
    expect(await repo.tag('light', { ref: repo.initialCommit })).toBe(repo.initialCommit);
    await repo.push('HEAD:refs/heads/main', 'refs/tags/api/v1.0.0', 'refs/tags/light');

    expect(await repo.git('-C', repo.origin, 'cat-file', '-t', 'refs/tags/api/v1.0.0')).toBe('tag');
    expect(await repo.git('-C', repo.origin, 'cat-file', '-t', 'refs/tags/light')).toBe('commit');
    expect(await repo.git('-C', repo.origin, 'rev-parse', 'main')).toBe(sha);
  });

  it('clones origin into independent work trees that share it', async () => {
    const repo = await createTempRepo();
    onTestFinished(repo.cleanup);
    const other = await repo.clone();
    const sha = await other.commit('feat: from clone', { b: '2' });
    await other.push();

    await repo.git('pull', '--quiet', '--ff-only');
    expect(await repo.revParse()).toBe(sha);
    expect(other.dir.startsWith(repo.root)).toBe(true);
  });

  it('cleanup removes everything and can run twice', async () => {
    const repo = await createTempRepo();
    await repo.clone();
    await repo.cleanup();
    await repo.cleanup();
    await expect(access(join(repo.root))).rejects.toThrow();
  });
});
