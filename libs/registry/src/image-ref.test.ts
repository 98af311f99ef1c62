import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatImageRef, InvalidImageRefError, parseImageRef } from './index.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('parseImageRef', () => {
  it.each([
    ['ghcr.io/acme/api:v1.2.3', { registry: 'ghcr.io', repository: 'acme/api', tag: 'v1.2.3' }],
    [`127.0.0.1:5000/api@${DIGEST}`, { registry: '127.0.0.1:5000', repository: 'api', digest: DIGEST }],
    [`ghcr.io/acme/api:v1@${DIGEST}`, { registry: 'ghcr.io', repository: 'acme/api', tag: 'v1', digest: DIGEST }],
    ['localhost/api', { registry: 'localhost', repository: 'api' }],
    ['localhost:5000/a/b/c:sha-abc1234', { registry: 'localhost:5000', repository: 'a/b/c', tag: 'sha-abc1234' }],
    ['nginx', { registry: 'docker.io', repository: 'library/nginx' }],
    ['nginx:1.27', { registry: 'docker.io', repository: 'library/nginx', tag: '1.27' }],
    ['acme/api:v1', { registry: 'docker.io', repository: 'acme/api', tag: 'v1' }],
    ['index.docker.io/acme/api', { registry: 'docker.io', repository: 'acme/api' }],
    ['[::1]:5000/api:v1', { registry: '[::1]:5000', repository: 'api', tag: 'v1' }],
    ['oci-layout:./images/api:v1.2.3', { registry: 'oci-layout:./images', repository: 'api', tag: 'v1.2.3' }],
    [`oci-layout:/tmp/out/acme-api@${DIGEST}`, { registry: 'oci-layout:/tmp/out', repository: 'acme-api', digest: DIGEST }],
  ])('%s', (input, expected) => {
    expect(parseImageRef(input)).toEqual(expected);
  });

  it.each([
    ['', /empty/],
    ['ghcr.io/Acme/api:v1', /not a valid repository/],
    ['ghcr.io/acme/api:-bad', /not a valid tag/],
    ['ghcr.io/acme/api@sha256:abc', /not a sha256 digest/],
    ['ghcr.io/acme//api', /not a valid repository/],
    ['oci-layout:api:v1', /oci-layout:<dir>\/<repository>/],
    ['ghcr.io/acme/api:', /not a valid tag/],
  ])('refuses %j', (input, message) => {
    const error = (() => {
      try {
        parseImageRef(input);
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidImageRefError);
    expect(error).toMatchObject({ exitCode: 2, code: 'E_IMAGE_REF_INVALID' });
    expect((error as Error).message).toMatch(message);
  });

  it('round-trips through formatImageRef', () => {
    const component = fc.stringMatching(/^[a-z0-9]+(?:[._-][a-z0-9]+)?$/);
    const ref = fc.record({
      registry: fc.constantFrom('ghcr.io', '127.0.0.1:5000', 'registry.example.com', 'localhost:5000', 'oci-layout:/tmp/images'),
      repository: fc.array(component, { minLength: 1, maxLength: 3 }).map((c) => c.join('/')),
      tag: fc.option(fc.stringMatching(/^[\w][\w.-]{0,20}$/), { nil: undefined }),
      digest: fc.option(fc.stringMatching(/^[a-f0-9]{64}$/).map((h) => `sha256:${h}`), { nil: undefined }),
    });
    fc.assert(
      fc.property(ref, (r) => {
        const value = Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined));
        const parsed = parseImageRef(formatImageRef(r));
        // oci-layout keeps only the last path component as the repository.
        if (r.registry.startsWith('oci-layout:')) expect(formatImageRef(parsed)).toBe(formatImageRef(r));
        else expect(parsed).toEqual(value);
      }),
    );
  });
});
