import { inspect } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createTempRepo } from '@slipway/testing';
import type { GitWorkdir } from '@slipway/testing';
import { createGit } from './create-git.js';
import { GitError, NonFastForwardError, RefExistsError, TagConflictError } from './errors.js';

async function setup() {
  const repo = await createTempRepo();
  onTestFinished(repo.cleanup);
  const gitFor = (w: GitWorkdir) => createGit({ cwd: w.dir, env: w.env });
  return { repo, git: gitFor(repo), gitFor };
}

describe('createTag', () => {
  it('creates an annotated tag keeping the message verbatim', async () => {
    const { repo, git } = await setup();
    const sha = await repo.commit('feat: x', { a: '1' });
    const message = '# api 1.0.0\n\n## Features\n\n- x (#1)\n';

    const object = await git.createTag({ name: 'api/v1.0.0', commit: sha, message });

    expect(await repo.git('cat-file', '-t', object)).toBe('tag');
    expect(await repo.git('rev-parse', 'api/v1.0.0^{commit}')).toBe(sha);
    expect(await repo.git('tag', '-l', '--format=%(contents)', 'api/v1.0.0')).toBe(message);
  });

  it('refuses a name that is taken, saying where it points', async () => {
    const { repo, git } = await setup();
    const sha = await repo.commit('feat: x', { a: '1' });
    await git.createTag({ name: 'v1.0.0', commit: repo.initialCommit, message: 'first' });

    const error = await git.createTag({ name: 'v1.0.0', commit: sha, message: 'again' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RefExistsError);
    expect(error).toMatchObject({ ref: 'refs/tags/v1.0.0', exitCode: 3, existing: { commit: repo.initialCommit } });
    expect(await repo.git('rev-parse', 'v1.0.0^{commit}')).toBe(repo.initialCommit);
  });

  it('rejects invalid names as git errors, not silently', async () => {
    const { repo, git } = await setup();
    await expect(git.createTag({ name: 'bad..name', commit: repo.initialCommit, message: 'm' })).rejects.toMatchObject({
      name: 'InvalidRefError',
      exitCode: 2,
    });
    await expect(git.createTag({ name: 'ok', commit: 'nope', message: 'm' })).rejects.toMatchObject({ name: 'RefNotFoundError' });
  });
});

describe('deleteTag', () => {
  it('deletes only the tag object it was given, never one made since', async () => {
    const { repo, git } = await setup();
    const ours = await git.createTag({ name: 'v1.0.0', commit: repo.initialCommit, message: 'ours' });
    expect(await git.deleteTag('v1.0.0', ours)).toBe(true);
    expect(await repo.git('tag', '-l', 'v1.0.0')).toBe('');
    expect(await git.deleteTag('v1.0.0', ours)).toBe(false);

    const theirs = await git.createTag({ name: 'v1.0.0', commit: repo.initialCommit, message: 'theirs' });
    expect(await git.deleteTag('v1.0.0', ours)).toBe(false);
    expect(await repo.git('rev-parse', 'refs/tags/v1.0.0')).toBe(theirs);
  });
});

describe('pushTag', () => {
  it('pushes exactly one tag, and is idempotent when origin already has it', async () => {
    const { repo, git } = await setup();
    await git.createTag({ name: 'api/v1.0.0', commit: repo.initialCommit, message: 'api' });
    await git.createTag({ name: 'vault/v1.0.0', commit: repo.initialCommit, message: 'vault' });
    await repo.git('config', 'push.followTags', 'true');

    expect(await git.pushTag('api/v1.0.0')).toBe('created');
    expect(await git.pushTag('api/v1.0.0')).toBe('unchanged');
    expect(await repo.git('-C', repo.origin, 'tag', '-l')).toBe('api/v1.0.0');
  });

  it('throws RefExistsError with origin’s target when origin has a different tag of that name', async () => {
    const { repo, git, gitFor } = await setup();
    const other = await repo.clone();
    const theirs = await other.commit('feat: theirs', { t: '1' });
    await other.push();
    await gitFor(other).createTag({ name: 'v1.0.0', commit: theirs, message: 'theirs' });
    await gitFor(other).pushTag('v1.0.0');

    await git.createTag({ name: 'v1.0.0', commit: repo.initialCommit, message: 'ours' });
    const error = await git.pushTag('v1.0.0').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RefExistsError);
    expect((error as RefExistsError).existing?.commit).toBe(theirs);
  });
});

describe('fetchTags and fetchBranch', () => {
  it('brings origin’s tags and branch tip into a clone', async () => {
    const { repo, git, gitFor } = await setup();
    const other = await repo.clone();
    const tip = await other.commit('feat: elsewhere', { e: '1' });
    await other.push();
    await other.tag('api/v2.0.0', { message: 'api 2' });
    await other.tag('light');
    await other.push('refs/tags/api/v2.0.0', 'refs/tags/light');

    await git.fetchTags();
    expect((await git.listTags()).map((t) => [t.name, t.commit])).toEqual([
      ['api/v2.0.0', tip],
      ['light', tip],
    ]);
    expect(await git.fetchBranch('main')).toBe(tip);
    expect(await git.isAncestor('api/v2.0.0', 'origin/main')).toBe(true);
    expect(await gitFor(other).fetchBranch('main')).toBe(tip);
    await expect(git.fetchBranch('no-such-branch')).rejects.toMatchObject({ name: 'RefNotFoundError', ref: 'origin/no-such-branch' });
  });

  it('never moves a local tag that differs from origin: TagConflictError, local tag kept', async () => {
    const { repo, git } = await setup();
    const other = await repo.clone();
    const theirs = await other.commit('feat: theirs', { t: '1' });
    await other.tag('v1.0.0', { message: 'theirs' });
    await other.tag('v1.0.1');
    await other.push('HEAD:refs/heads/main', 'refs/tags/v1.0.0', 'refs/tags/v1.0.1');
    await repo.tag('v1.0.0', { ref: repo.initialCommit, message: 'ours' });

    const error = await git.fetchTags().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TagConflictError);
    expect(error).toMatchObject({ tags: ['v1.0.0'], exitCode: 3, code: 'E_GIT_TAG_CONFLICT' });
    expect(await git.resolveCommit('v1.0.0')).toBe(repo.initialCommit);
    expect(await git.resolveCommit('v1.0.1')).toBe(theirs);
  });

  it('fails loudly when origin is unreachable, without leaking credentials from the URL', async () => {
    const { repo } = await setup();
    const token = 'ghs_0123456789abcdefghijABCDEFGHIJ0123';
    await repo.git('remote', 'set-url', 'origin', `https://x-access-token:${token}@127.0.0.1:9/acme/platform.git`);
    // GIT_TRACE makes git echo the remote helper's command line, URL and all, to stderr.
    const git = createGit({ cwd: repo.dir, env: { ...repo.env, GIT_TRACE: '1' } });

    const error = await git.fetchTags().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(GitError);
    expect((error as GitError).exitCode).toBe(1);
    expect((error as GitError).stderr).toContain('https://***@127.0.0.1:9/acme/platform.git');
    expect(inspect(error, { depth: Infinity, showHidden: true })).not.toContain(token);
    const fetchError = await git.fetchBranch('main').catch((e: unknown) => e);
    expect(inspect(fetchError, { depth: Infinity, showHidden: true })).not.toContain(token);
  });
});

describe('remoteRefs', () => {
  it('answers many refs in one ls-remote: exact names only, annotated tags peeled, absent ones left out', async () => {
    const { repo, git } = await setup();
    const tip = await repo.commit('feat: x', { x: '1' });
    await repo.push();
    await repo.tag('api/v1.0.0', { message: 'api 1' });
    await repo.tag('light', { ref: repo.initialCommit });
    // Its name ends like refs/tags/api/v1.0.0: ls-remote's tail match would take it, remoteRefs must not.
    await repo.tag('x/refs/tags/api/v1.0.0', { ref: repo.initialCommit });
    await repo.push('refs/tags/api/v1.0.0', 'refs/tags/light', 'refs/tags/x/refs/tags/api/v1.0.0');
    const annotated = await repo.git('rev-parse', 'refs/tags/api/v1.0.0');

    const found = await git.remoteRefs(['refs/tags/api/v1.0.0', 'refs/tags/light', 'refs/tags/api/v9.9.9']);

    expect(Object.fromEntries(found)).toEqual({
      'refs/tags/api/v1.0.0': { object: annotated, commit: tip },
      'refs/tags/light': { object: repo.initialCommit, commit: repo.initialCommit },
    });
    expect(await git.remoteRef('refs/tags/api/v1.0.0')).toEqual({ object: annotated, commit: tip });
    expect(await git.remoteRefs([])).toEqual(new Map());
  });
});

describe('fetchBranchAndTags', () => {
  it('brings the branch tip and every tag in one fetch, as fetchBranch and fetchTags do', async () => {
    const { repo, git } = await setup();
    const other = await repo.clone();
    const tip = await other.commit('feat: elsewhere', { e: '1' });
    await other.push();
    await other.tag('api/v2.0.0', { message: 'api 2' });
    await other.tag('light', { ref: repo.initialCommit });
    await other.push('refs/tags/api/v2.0.0', 'refs/tags/light');

    expect(await git.fetchBranchAndTags('main')).toBe(tip);
    expect(await repo.git('rev-parse', 'refs/remotes/origin/main')).toBe(tip);
    expect((await git.listTags()).map((t) => [t.name, t.commit])).toEqual([
      ['api/v2.0.0', tip],
      ['light', repo.initialCommit],
    ]);
    await expect(git.fetchBranchAndTags('no-such-branch')).rejects.toMatchObject({ name: 'RefNotFoundError', ref: 'origin/no-such-branch' });
  });

  it('never moves a local tag that differs from origin: TagConflictError, local tag kept', async () => {
    const { repo, git } = await setup();
    const other = await repo.clone();
    const theirs = await other.commit('feat: theirs', { t: '1' });
    await other.tag('v1.0.0', { message: 'theirs' });
    await other.push('HEAD:refs/heads/main', 'refs/tags/v1.0.0');
    await repo.tag('v1.0.0', { ref: repo.initialCommit, message: 'ours' });

    const error = await git.fetchBranchAndTags('main').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TagConflictError);
    expect(error).toMatchObject({ tags: ['v1.0.0'], exitCode: 3, code: 'E_GIT_TAG_CONFLICT' });
    expect(await git.resolveCommit('v1.0.0')).toBe(repo.initialCommit);
    expect(await repo.git('rev-parse', 'refs/remotes/origin/main')).toBe(theirs);
  });
});

describe('pushNewRef', () => {
  it('creates a ref that does not exist yet and refuses one that does, even at the same commit', async () => {
    const { repo, git } = await setup();
    await git.pushNewRef('refs/tags/1.0.0-staging.0', repo.initialCommit);
    expect(await git.remoteRef('refs/tags/1.0.0-staging.0')).toEqual({ object: repo.initialCommit, commit: repo.initialCommit });

    const again = await git.pushNewRef('refs/tags/1.0.0-staging.0', repo.initialCommit).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(RefExistsError);
    expect(again).toMatchObject({ existing: { commit: repo.initialCommit } });
    expect(await git.remoteRef('refs/tags/1.0.0-staging.1')).toBeUndefined();
  });

  it('refuses objects this clone does not have and names that are not full refs', async () => {
    const { git } = await setup();
    await expect(git.pushNewRef('refs/tags/x', 'f'.repeat(40))).rejects.toMatchObject({ name: 'RefNotFoundError' });
    await expect(git.pushNewRef('x', 'HEAD')).rejects.toMatchObject({ name: 'InvalidRefError', exitCode: 2 });
    expect(await git.remoteRef('refs/tags/x')).toBeUndefined();
  });

  it('does not fast-forward an existing branch: creation only', async () => {
    const { repo, git } = await setup();
    const next = await repo.commit('feat: next', { n: '1' });
    await expect(git.pushNewRef('refs/heads/main', next)).rejects.toMatchObject({
      name: 'RefExistsError',
      existing: { commit: repo.initialCommit },
    });
  });

  it('lets exactly one of 8 concurrent clones create the same tag', async () => {
    const { repo, gitFor } = await setup();
    const clones = await Promise.all(Array.from({ length: 8 }, (_, i) => repo.clone(`racer-${String(i)}`)));
    const shas = await Promise.all(clones.map((c, i) => c.commit(`feat: racer ${String(i)}`, { [`r${String(i)}`]: 'x' })));

    const results = await Promise.allSettled(clones.map((c, i) => gitFor(c).pushNewRef('refs/tags/1.2.0-staging.1', shas[i] ?? '')));

    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [shas[i]] : []));
    expect(winners).toHaveLength(1);
    const onOrigin = await repo.git('-C', repo.origin, 'rev-parse', 'refs/tags/1.2.0-staging.1');
    expect(onOrigin).toBe(winners[0]);
    for (const r of results) {
      if (r.status === 'fulfilled') continue;
      expect(r.reason).toBeInstanceOf(RefExistsError);
      expect((r.reason as RefExistsError).existing?.commit).toBe(onOrigin);
    }
  });

  it('lets exactly one of 8 concurrent clones create the same tag at the same commit', async () => {
    const { repo, gitFor } = await setup();
    const clones = await Promise.all(Array.from({ length: 8 }, () => repo.clone()));
    const results = await Promise.allSettled(clones.map((c) => gitFor(c).pushNewRef('refs/tags/reserve', repo.initialCommit)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof RefExistsError)).toHaveLength(7);
  });
});

describe('push', () => {
  it('pushes a branch, reports non-fast-forward as a typed error, and succeeds after a rebase', async () => {
    const { repo, git, gitFor } = await setup();
    const other = await repo.clone();
    await other.commit('chore(pins): canary', { 'deploy/canary/api.yaml': 'v1' });
    expect(await gitFor(other).push('main')).toBe('pushed');

    const ours = await repo.commit('chore(pins): production', { 'deploy/production/api.yaml': 'v1' });
    const error = await git.push('main').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonFastForwardError);
    expect(error).toMatchObject({ code: 'E_GIT_NON_FAST_FORWARD', exitCode: 1, ref: 'refs/heads/main' });

    await repo.git('rebase', await git.fetchBranch('main'));
    expect(await git.push('main')).toBe('pushed');
    expect(await git.push('main')).toBe('unchanged');
    const log = (await repo.git('-C', repo.origin, 'log', '--format=%s', 'main')).split('\n');
    expect(log).toEqual(['chore(pins): production', 'chore(pins): canary', 'chore: initial commit']);
    expect(await repo.revParse()).not.toBe(ours);
  });

  it('pushes exactly one commit given as the source, never the local branch around it', async () => {
    const { repo, git } = await setup();
    const promotion = await repo.git('commit-tree', '-p', repo.initialCommit, '-m', 'promote', `${repo.initialCommit}^{tree}`);
    await repo.commit('wip: not ready', { 'wip.txt': 'x' });

    expect(await git.push('main', promotion)).toBe('pushed');
    expect(await repo.git('-C', repo.origin, 'log', '--format=%s', 'main')).toBe('promote\nchore: initial commit');
    await expect(git.push('main', repo.initialCommit)).rejects.toBeInstanceOf(NonFastForwardError);
    await expect(git.push('main', '--force')).rejects.toMatchObject({ name: 'InvalidRefError' });
  });
});
