import { describe, expect, it } from 'vitest';
import { tagPrefixProblem } from './tag-prefix.js';

describe('tagPrefixProblem', () => {
  it.each([
    ['api/', 'image'],
    ['instrumentation/net/http/otelhttp/', 'image'],
    ['@acme/cli@', 'npm'],
    ['cli@', 'npm'],
  ] as const)('accepts %j for kind %s', (prefix, kind) => {
    expect(tagPrefixProblem(prefix, kind)).toBeNull();
  });

  it.each([
    ['api', 'image', 'ends with "/"'],
    ['@acme/cli@', 'image', 'only for kind "npm"'],
    ['@Acme/cli@', 'npm', 'not an npm package name'],
    ['a//', 'image', 'cannot be part of a git tag name'],
    ['.a/', 'image', 'cannot be part of a git tag name'],
    ['a.lock/', 'image', 'cannot be part of a git tag name'],
    ['a b/', 'image', 'cannot be part of a git tag name'],
  ] as const)('refuses %j for kind %s', (prefix, kind, says) => {
    expect(tagPrefixProblem(prefix, kind)).toContain(says);
  });
});
