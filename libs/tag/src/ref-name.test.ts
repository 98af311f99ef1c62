import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyTag } from './classify-tag.js';
import { TagError } from './errors.js';
import { isValidImageTag, isValidRefName, refNameProblem, sanitizeImageTag } from './ref-name.js';

// git itself is the witness: `git check-ref-format refs/tags/<name>` exits 0 exactly when git
// would accept the tag.
function gitAccepts(name: string): boolean {
  const run = spawnSync('git', ['check-ref-format', `refs/tags/${name}`], { encoding: 'utf8' });
  if (run.error) throw new Error(`git is needed for this test and could not run: ${run.error.message}`);
  return run.status === 0;
}

describe('refNameProblem (git check-ref-format rules)', () => {
  it.each([
    ['api/v1.2.3', null],
    ['v1.4.0.1', null],
    ['a/b/c', null],
    ['x@y', null],
    ['a.lock.b', null],
    ['\u00e9', null],
    ['', 'empty'],
    ['@', null],
    ['a..b', '".."'],
    ['a@{b', '"@{"'],
    ['/a', 'start with "/"'],
    ['a/', 'end with "/"'],
    ['a//b', '"//"'],
    ['a.', 'end with "."'],
    ['.a', 'starts with "."'],
    ['a/.b', 'starts with "."'],
    ['a.lock', '".lock"'],
    ['a.lock/b', '".lock"'],
    ['a b', 'U+0020 (space)'],
    ['a~b', '"~"'],
    ['a^b', '"^"'],
    ['a:b', '":"'],
    ['a?b', '"?"'],
    ['a*b', '"*"'],
    ['a[b', '"["'],
    ['a\\b', '"\\"'],
    ['a\u0001b', 'control character U+0001'],
    ['a\u007fb', 'control character U+007F'],
  ])('%j → %s', (name, problem) => {
    const got = refNameProblem(name);
    if (problem === null) expect(got).toBeNull();
    else expect(got).toContain(problem);
    expect(isValidRefName(name)).toBe(problem === null);
    expect(gitAccepts(name)).toBe(problem === null);
  });

  it('agrees with git on arbitrary ASCII names', () => {
    // Biased toward the characters the rules are about, so most runs hit an edge.
    const char = fc.oneof(
      fc.constantFrom('.', '/', '@', '{', 'l', 'o', 'c', 'k', ' ', '~', '^', ':', '?', '*', '[', '\\', '\u0001', '\u007f', '-', 'v', '1'),
      fc.integer({ min: 1, max: 0x7f }).map((c) => String.fromCharCode(c)),
    );
    fc.assert(
      fc.property(fc.array(char, { maxLength: 12 }).map((chars) => chars.join('')), (name) => {
        expect(isValidRefName(name)).toBe(gitAccepts(name));
      }),
      { numRuns: 400 },
    );
  });

  it('never accepts a tag git would refuse, whatever the scheme', () => {
    const char = fc.constantFrom(...'av1.0-/_+@{}~^: \\rcsh'.split(''), '..', '.lock', 'sha-', 'api/', 'v1.2.3');
    const services = { api: {} };
    fc.assert(
      fc.property(fc.array(char, { maxLength: 8 }).map((parts) => parts.join('')), (tag) => {
        for (const scheme of ['per-service', 'single', 'staging-line'] as const) {
          try {
            classifyTag(tag, { scheme, services });
          } catch (error) {
            if (!(error instanceof TagError)) throw error;
            continue;
          }
          expect(gitAccepts(tag)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('image tags', () => {
  it.each([
    ['v1.2.3', true],
    ['1.2.3-staging.2', true],
    ['sha-3f2a9c1', true],
    ['_x', true],
    ['a'.repeat(128), true],
    ['a'.repeat(129), false],
    ['.x', false],
    ['-x', false],
    ['a/b', false],
    ['a+b', false],
    ['', false],
  ])('%j valid: %s', (tag, valid) => {
    expect(isValidImageTag(tag)).toBe(valid);
  });

  it.each([
    ['main', 'main'],
    ['feature/login-form', 'feature-login-form'],
    ['release/1.x', 'release-1.x'],
    ['-weird', 'weird'],
    ['..dots', 'dots'],
    ['user@host:branch', 'user-host-branch'],
    ['ünïcode', 'n-code'],
    ['/', null],
    ['---', null],
  ])('sanitizes branch %j → %j', (branch, tag) => {
    expect(sanitizeImageTag(branch)).toBe(tag);
  });

  it('cuts long branch names to 128 characters and keeps them valid', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (branch) => {
        const tag = sanitizeImageTag(branch);
        if (tag !== null) expect(isValidImageTag(tag)).toBe(true);
      }),
    );
    expect(sanitizeImageTag('b'.repeat(200))).toHaveLength(128);
  });
});
