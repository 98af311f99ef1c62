import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseCommit } from './parse-commit.js';
import type { ParsedCommit } from './parse-commit.js';

const sha = '0123456789abcdef0123456789abcdef01234567';

describe('parseCommit', () => {
  it.each<[string, string, string | undefined, Partial<ParsedCommit>]>([
    ['plain feature', 'feat: add login', undefined, { type: 'feat', scope: undefined, subject: 'add login', group: 'features', breaking: false, pr: undefined }],
    ['scope and PR number', 'feat(api): add x (#123)', undefined, { type: 'feat', scope: 'api', subject: 'add x', pr: 123, header: 'feat(api): add x' }],
    ['fix with scope', 'fix(vault): close the socket', undefined, { type: 'fix', scope: 'vault', group: 'fixes' }],
    ['fix! is breaking', 'fix!: drop the v1 route', undefined, { type: 'fix', breaking: true, group: 'breaking', breakingNotes: [] }],
    ['feat(scope)! is breaking', 'feat(api)!: rename field (#9)', undefined, { type: 'feat', scope: 'api', breaking: true, pr: 9, subject: 'rename field' }],
    ['BREAKING CHANGE footer', 'refactor: move config', 'Reads the new path.\n\nBREAKING CHANGE: config moved to /etc/slipway', { type: 'refactor', breaking: true, group: 'breaking', breakingNotes: ['config moved to /etc/slipway'], body: 'Reads the new path.' }],
    ['BREAKING-CHANGE footer with !', 'feat!: x', 'BREAKING-CHANGE: clients must upgrade', { breaking: true, breakingNotes: ['clients must upgrade'] }],
    ['lower-case "breaking change" prose is not a footer', 'fix: y', 'The breaking change: handling of nulls is now lenient', { breaking: false, group: 'fixes' }],
    ['no type', 'Update README', undefined, { type: undefined, scope: undefined, subject: 'Update README', header: 'Update README', group: 'other' }],
    ['upper-case type is normalised', 'Feat(UI): Dark mode', undefined, { type: 'feat', scope: 'UI', group: 'features' }],
    ['chore lands in other', 'chore(deps): bump yaml (#77)', undefined, { type: 'chore', group: 'other', pr: 77, header: 'chore(deps): bump yaml' }],
    ['scope with comma', 'fix(api,web): share cookie', undefined, { type: 'fix', scope: 'api,web' }],
    ['GitHub merge commit with PR title', 'Merge pull request #12 from x/y', 'feat: add thing\n\nLonger text.', { merge: true, pr: 12, type: 'feat', subject: 'add thing', group: 'features' }],
    ['GitHub merge commit without title', 'Merge pull request #12 from x/y', undefined, { merge: true, pr: 12, type: undefined, subject: 'Merge pull request #12 from x/y', group: 'other' }],
    ['branch merge', "Merge branch 'main' into feature", undefined, { merge: true, pr: undefined, group: 'other' }],
    ['git revert', 'Revert "feat: add login"', 'This reverts commit abc1234.', { type: undefined, group: 'other', revert: { header: 'feat: add login', sha: 'abc1234' } }],
    ['conventional revert type', 'revert: feat: add login', undefined, { type: 'revert', subject: 'feat: add login', group: 'other' }],
    ['multi-line body', 'fix: a', 'line one\nline two\n\nparagraph two\n\nCloses #4', { body: 'line one\nline two\n\nparagraph two', breaking: false, pr: undefined }],
    ['missing space after colon is not conventional', 'feat:nope', undefined, { type: undefined, group: 'other' }],
    ['empty message', '', undefined, { type: undefined, subject: '', group: 'other' }],
    ['CRLF body', 'feat: win', 'first\r\n\r\nBREAKING CHANGE: crlf\r\n', { breaking: true, breakingNotes: ['crlf'] }],
  ])('%s', (_name, subject, body, expected) => {
    expect(parseCommit({ sha, subject, body })).toMatchObject({ sha, ...expected });
  });

  it('never throws and always yields a group for any subject and body', () => {
    fc.assert(
      fc.property(fc.string(), fc.option(fc.string(), { nil: undefined }), (subject, body) => {
        const parsed = parseCommit({ sha, subject, body });
        expect(['breaking', 'features', 'fixes', 'other']).toContain(parsed.group);
        expect(parsed.breaking).toBe(parsed.group === 'breaking');
      }),
    );
  });
});

describe('parseCommit with the raw message', () => {
  it('takes the first line as the header, never a paragraph joined into one line', () => {
    const parsed = parseCommit({ sha: 'a', subject: 'fix(a): x fix(b): y', message: 'fix(a): x\nfix(b): y' });
    expect(parsed).toMatchObject({ type: 'fix', scope: 'a', subject: 'x', header: 'fix(a): x', body: 'fix(b): y', breaking: false });
  });

  it('finds a BREAKING CHANGE footer written without a blank line before it', () => {
    const parsed = parseCommit({ sha: 'a', subject: '', message: 'feat(api): new auth\nBREAKING CHANGE: v1 tokens are refused\n' });
    expect(parsed).toMatchObject({ type: 'feat', breaking: true, breakingNotes: ['v1 tokens are refused'], group: 'breaking' });
  });

  it('reads a GitHub merge commit the same way from its raw message', () => {
    const parsed = parseCommit({ sha: 'a', subject: '', message: 'Merge pull request #12 from acme/x\n\nfeat(api): thing' });
    expect(parsed).toMatchObject({ type: 'feat', scope: 'api', pr: 12, merge: true });
  });
});
