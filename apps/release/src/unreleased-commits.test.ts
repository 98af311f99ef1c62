import { createGit } from '@slipway/git';
import { createTempRepo } from '@slipway/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { unreleasedCommits } from './unreleased-commits.js';

async function setup() {
  const repo = await createTempRepo();
  onTestFinished(repo.cleanup);
  return { repo, git: createGit({ cwd: repo.dir, env: repo.env }) };
}

describe('unreleasedCommits', () => {
  it('answers for every release from one log, even when skewed dates make git list a parent before its child', async () => {
    const { repo, git } = await setup();
    const day = (d: string) => ({ date: new Date(`2024-${d}T00:00:00Z`) });
    const parent = await repo.commit('parent', { p: '1' }, day('09-01'));
    await repo.git('checkout', '--quiet', '-b', 'late');
    const late = await repo.commit('late child', { l: '1' }, day('10-01'));
    await repo.git('checkout', '--quiet', 'main');
    // This child's clock was wrong: it claims to be older than its parent.
    const early = await repo.commit('early child', { e: '1' }, day('01-01'));
    await repo.git('merge', '--quiet', '--no-ff', '-m', 'merge', 'late');
    const merge = await repo.revParse();

    const history = await unreleasedCommits(
      git,
      merge,
      new Map([
        ['at-early', early],
        ['at-late', late],
        ['none', null],
      ]),
    );
    const order = history.log.map((c) => c.sha);
    expect(order.indexOf(parent)).toBeLessThan(order.indexOf(early));
    expect(history.passes).toBe(1);
    const all = [repo.initialCommit, parent, late, early, merge];
    const open = (key: string) => all.filter((sha) => history.isUnreleased(key, sha));
    expect(open('at-early')).toEqual([late, merge]);
    expect(open('at-late')).toEqual([early, merge]);
    expect(open('none')).toEqual(all);
    expect(history.isUnreleased('unknown-key', merge)).toBe(false);
  });

  it('starts at the merge base when every stream has a release, and reads nothing when head is released', async () => {
    const { repo, git } = await setup();
    const one = await repo.commit('one', { a: '1' });
    const two = await repo.commit('two', { a: '2' });
    const three = await repo.commit('three', { a: '3' });
    const history = await unreleasedCommits(git, three, new Map([['x', one], ['y', two]]));
    expect(history.base).toBe(one);
    expect(history.log.map((c) => c.sha)).toEqual([three, two]);
    expect([two, three].filter((s) => history.isUnreleased('y', s))).toEqual([three]);

    const released = await unreleasedCommits(git, three, new Map([['x', three]]));
    expect(released).toMatchObject({ base: three, log: [], passes: 0 });
  });

  it('a first release with known folders reads its own history beside the shared log, not all of it', async () => {
    const { repo, git } = await setup();
    const early = await repo.commit('feat(new): early work', { 'apps/new/a.js': '1' });
    const unrelated = await repo.commit('chore: old root work', { 'ci.yml': '1' });
    const released = await repo.commit('feat(x): shipped', { 'apps/x/a.js': '1' });
    const later = await repo.commit('fix(new): later work', { 'apps/new/a.js': '2' });
    const head = await repo.commit('fix(x): more', { 'apps/x/a.js': '2' });

    const history = await unreleasedCommits(git, head, new Map([['x', released], ['new', null]]), new Map([['new', ['apps/new']]]));
    expect(history.base).toBe(released);
    expect(history.passes).toBe(2);
    // The shared log first (base..head), then what only the first release needs.
    expect(history.log.map((c) => c.sha)).toEqual([head, later, early]);
    expect(history.log.some((c) => c.sha === unrelated)).toBe(false);
    const open = (key: string) => history.log.map((c) => c.sha).filter((sha) => history.isUnreleased(key, sha));
    expect(open('new')).toEqual([head, later, early]);
    expect(open('x')).toEqual([head, later]);

    // Only first releases: just the limited log. A first release of the whole repository reads it all.
    const alone = await unreleasedCommits(git, head, new Map([['new', null]]), new Map([['new', ['apps/new']]]));
    expect(alone).toMatchObject({ base: undefined, passes: 1 });
    expect(alone.log.map((c) => c.sha)).toEqual([later, early]);
    const everything = await unreleasedCommits(git, head, new Map([['x', released], ['all', null]]), new Map([['all', ['']]]));
    expect(everything).toMatchObject({ base: undefined, passes: 1 });
    expect(everything.log.map((c) => c.sha)).toContain(unrelated);
  });
});
