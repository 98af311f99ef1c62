import { describe, expect, it } from 'vitest';
import { parseChallenges } from './www-authenticate.js';

describe('parseChallenges', () => {
  it.each([
    [
      'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/api:pull"',
      [{ scheme: 'bearer', params: { realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:acme/api:pull' } }],
    ],
    ['Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
    [
      'Bearer realm="https://auth.example/token", service="reg", scope="repository:a:pull,push repository:b:pull", error="insufficient_scope"',
      [
        {
          scheme: 'bearer',
          params: { realm: 'https://auth.example/token', service: 'reg', scope: 'repository:a:pull,push repository:b:pull', error: 'insufficient_scope' },
        },
      ],
    ],
    [
      'Basic realm="a, b", Bearer realm=https://x/token,service=y',
      [
        { scheme: 'basic', params: { realm: 'a, b' } },
        { scheme: 'bearer', params: { realm: 'https://x/token', service: 'y' } },
      ],
    ],
    ['Bearer realm="say \\"hi\\""', [{ scheme: 'bearer', params: { realm: 'say "hi"' } }]],
    ['', []],
  ])('%s', (header, expected) => {
    expect(parseChallenges(header)).toEqual(expected);
  });
});
