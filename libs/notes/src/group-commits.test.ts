import { describe, expect, it } from 'vitest';
import { groupCommits, recommendedBump } from './group-commits.js';
import { parseCommit } from './parse-commit.js';

const parse = (...subjects: string[]) => subjects.map((subject, i) => parseCommit({ sha: `c${i}`, subject }));

describe('groupCommits', () => {
  it('puts each commit in exactly one group and keeps input order within a group', () => {
    const groups = groupCommits(parse('fix: b', 'feat!: a', 'feat: c', 'docs: d', 'fix: e', 'feat: f'));
    expect(Object.fromEntries(Object.entries(groups).map(([k, v]) => [k, v.map((c) => c.sha)]))).toEqual({
      breaking: ['c1'],
      features: ['c2', 'c5'],
      fixes: ['c0', 'c4'],
      other: ['c3'],
    });
  });
});

describe('recommendedBump', () => {
  it.each([
    [[], {}, undefined],
    [['chore: a'], {}, 'patch'],
    [['fix: a', 'docs: b'], {}, 'patch'],
    [['fix: a', 'feat: b'], {}, 'minor'],
    [['feat: b', 'fix!: c'], {}, 'major'],
    [['feat: b', 'fix!: c'], { preMajor: true }, 'minor'],
    [['feat: b'], { preMajor: true }, 'patch'],
  ] as const)('%j %j → %s', (subjects, options, bump) => {
    expect(recommendedBump(parse(...subjects), options)).toBe(bump);
  });
});
