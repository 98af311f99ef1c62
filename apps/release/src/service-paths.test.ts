import { describe, expect, it } from 'vitest';
import { servicesTouching, underRoots } from './service-paths.js';

describe('servicesTouching', () => {
  const touching = servicesTouching(
    new Map([
      ['api', ['apps/api', 'libs/shared/']],
      ['api-gateway', ['./apps/api-gateway']],
      ['web', ['apps/web', 'libs/shared']],
      ['everything', ['.']],
    ]),
  );

  it.each([
    [['apps/api/src/main.ts'], ['api', 'everything']],
    [['apps/api-gateway/x.ts'], ['api-gateway', 'everything']],
    [['libs/shared/index.ts'], ['api', 'web', 'everything']],
    [['apps/api'], ['api', 'everything']],
    [['apps/apiary/x'], ['everything']],
    [['README.md', 'apps/web/a'], ['web', 'everything']],
    [[], []],
  ])('%j touches %j', (files, expected) => {
    expect([...touching(files)].sort()).toEqual([...expected].sort());
  });
});

describe('underRoots', () => {
  it('matches whole path components only', () => {
    const under = underRoots(['apps/api/']);
    expect(under('apps/api/x.ts')).toBe(true);
    expect(under('apps/api')).toBe(true);
    expect(under('apps/api-gateway/x.ts')).toBe(false);
    expect(underRoots(['.'])('anything/at/all')).toBe(true);
  });
});
