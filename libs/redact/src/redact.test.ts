import { describe, expect, it } from 'vitest';
import { redact } from './redact.js';

describe('redact', () => {
  it.each([
    ['fatal: https://x-access-token:s3cr3t-value@github.com/acme/platform.git', 'fatal: https://***@github.com/acme/platform.git'],
    ['git -c http.extraHeader=Authorization: basic dXNlcjpwYXNz fetch', 'git -c http.extraHeader=Authorization: basic *** fetch'],
    ['token ghp_abcdefghijklmnopqrstuvwxyz0123456789 here', 'token *** here'],
    ['github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz', '***'],
    ['no secrets: git@github.com:acme/platform.git https://github.com/a@b', 'no secrets: git@github.com:acme/platform.git https://github.com/a@b'],
  ])('%s', (input, expected) => {
    expect(redact(input)).toBe(expected);
  });

  it('removes literal secrets it is given, but not short words', () => {
    expect(redact('password hunter22 and abc', ['hunter22', 'abc'])).toBe('password *** and abc');
  });
});
