import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGit } from '@slipway/git';
import { execa } from 'execa';
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

/** A seeded xorshift generator, so a failing history can be rebuilt from its seed. */
function random(seed: number): (n: number) => number {
  let x = seed || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return Math.abs(x) % n;
  };
}

/**
 * A random history through one `git fast-import`: branches forking and merging (merges keep one
 * side's file, the other's, or something new — evil merges too), files in three folders.
 */
async function randomHistory(dir: string, seed: number): Promise<void> {
  const pick = random(seed);
  const files = ['a/1', 'a/2', 'b/1', 'b/2', 'c/1'];
  const trees: Array<Record<string, string>> = [];
  const chunks: string[] = [];
  const heads: number[] = [];
  let time = 1_700_000_000;
  const commit = (parents: number[], tree: Record<string, string>, branch: string) => {
    const mark = trees.length + 1;
    trees.push(tree);
    time += 60;
    const who = `T <t@slipway.invalid> ${time} +0000`;
    chunks.push(`commit refs/heads/${branch}\nmark :${mark}\nauthor ${who}\ncommitter ${who}\ndata 3\nc${mark % 10}\n`);
    if (parents[0] !== undefined) chunks.push(`from :${parents[0]}\n`);
    for (const p of parents.slice(1)) chunks.push(`merge :${p}\n`);
    chunks.push('deleteall\n');
    for (const [path, content] of Object.entries(tree)) chunks.push(`M 100644 inline ${path}\ndata ${content.length}\n${content}\n`);
    chunks.push('\n');
    return mark;
  };
  heads.push(commit([], { 'a/1': '0', 'b/1': '0' }, 'main'));
  for (let n = 0; n < 40; n++) {
    const at = pick(heads.length);
    const parent = heads[at] as number;
    const tree = { ...trees[parent - 1] };
    const roll = pick(10);
    if (roll < 2) {
      heads.push(commit([parent], tree, `b${n}`)); // a new branch here, empty commit
    } else if (roll < 5 && heads.length > 1) {
      const other = heads[(at + 1 + pick(heads.length - 1)) % heads.length] as number;
      const theirs = trees[other - 1] ?? {};
      const merged: Record<string, string> = {};
      for (const file of new Set([...Object.keys(tree), ...Object.keys(theirs)])) {
        const choice = pick(6);
        const value = choice < 3 ? tree[file] : choice < 5 ? theirs[file] : `m${n}`;
        if (value !== undefined) merged[file] = value;
      }
      heads[at] = commit([parent, other], merged, at === 0 ? 'main' : `b${at}`);
    } else {
      tree[files[pick(files.length)] as string] = `v${n}`;
      heads[at] = commit([parent], tree, at === 0 ? 'main' : `b${at}`);
    }
  }
  chunks.push('done\n');
  await execa('git', ['init', '--quiet', '-b', 'main', dir]);
  await execa('git', ['fast-import', '--quiet', '--done'], { cwd: dir, input: chunks.join('') });
}

describe('pathHistory', () => {
  // The property issue 17 asks for: plan lists exactly what `git log <last>..<head> -- <paths>`
  // lists, merges and all. Random histories, every folder set, several releases each.
  it.each(Array.from({ length: 16 }, (_, i) => i + 1))('agrees with git log on random merge histories (seed %i)', async (seed) => {
    const root = await mkdtemp(join(tmpdir(), 'slipway-history-'));
    if (process.env['KEEP_HISTORY'] === undefined) onTestFinished(() => rm(root, { recursive: true, force: true }));
    else console.log(root);
    await randomHistory(root, seed);
    const git = createGit({ cwd: root });
    const head = await git.resolveCommit('main');
    const all = (await execa('git', ['rev-list', 'main'], { cwd: root })).stdout.split('\n');
    const pick = random(seed * 7919);
    const releases = [null, ...Array.from({ length: 4 }, () => all[pick(all.length)] as string)];
    const history = await unreleasedCommits(git, head, new Map(releases.map((r, i) => [`k${i}`, r])));
    let deferred = 0;
    let total = 0;
    for (const [i, release] of releases.entries()) {
      for (const paths of [['a'], ['b'], ['c'], ['a', 'c'], ['a', 'b', 'c']]) {
        const range = release === null ? [head] : [`${release}..${head}`];
        const expected = (await execa('git', ['log', '--format=%H', ...range, '--', ...paths], { cwd: root })).stdout.split('\n').filter(Boolean);
        const got = history.pathHistory(`k${i}`, (files) => files.some((f) => paths.some((p) => f.startsWith(`${p}/`))));
        // undefined: the replay defers to git (release-plan then runs git log for that stream).
        if (got !== undefined) expect({ release, paths, got }).toEqual({ release, paths, got: expected });
        else deferred++;
        total++;
      }
    }
    // Most answers come from the replay; these histories merge old branch points far more often than real ones.
    expect(deferred).toBeLessThan(total);
  });
});
