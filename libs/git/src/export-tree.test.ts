import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTempRepo } from '@slipway/testing';
import { expect, it, onTestFinished } from 'vitest';
import { createGit } from './index.js';

it('exportTree writes a folder as it is at a commit, not as the working tree has it', async () => {
  const repo = await createTempRepo();
  onTestFinished(repo.cleanup);
  const first = await repo.commit('feat: v1', { 'apps/api/server.js': 'v1', 'apps/api/lib/x.js': 'x', 'apps/other/y.js': 'y' });
  await repo.commit('feat: v2', { 'apps/api/server.js': 'v2' });
  await repo.write({ 'apps/api/server.js': 'dirty' });
  const dest = await mkdtemp(join(tmpdir(), 'slipway-export-'));
  onTestFinished(() => rm(dest, { recursive: true, force: true }));

  const git = createGit({ cwd: repo.dir });
  const dir = await git.exportTree({ commit: first, path: 'apps/api', dest });
  expect(dir).toBe(join(dest, 'apps/api'));
  expect(await readFile(join(dir, 'server.js'), 'utf8')).toBe('v1');
  expect((await readdir(dir)).sort()).toEqual(['lib', 'server.js']);
  expect(await readdir(dest)).toEqual(['apps']);
  await expect(git.exportTree({ commit: 'nope', path: 'apps/api', dest })).rejects.toMatchObject({ code: 'E_GIT_REF_NOT_FOUND' });
});

it('commitTime is the committer time in seconds', async () => {
  const repo = await createTempRepo();
  onTestFinished(repo.cleanup);
  const sha = await repo.commit('chore: dated', { 'a.txt': 'a' }, { date: new Date('2026-01-02T03:04:05Z') });
  expect(await createGit({ cwd: repo.dir }).commitTime(sha)).toBe(Date.parse('2026-01-02T03:04:05Z') / 1000);
});
