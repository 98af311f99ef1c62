import { describe, expect, it } from 'vitest';
import { pinUpdater, readPinned } from './pin-formats.js';
import type { Promotion } from './pin-formats.js';

const A = `sha256:${'a'.repeat(64)}`;
const promotion: Promotion = {
  service: 'api',
  environment: 'production',
  image: 'ghcr.io/acme/api',
  digest: A,
  version: '1.3.0',
  tag: 'api/v1.3.0',
  imageTag: 'v1.3.0',
  promotedAt: new Date('2026-11-21T10:00:00Z'),
  promotedBy: 'alice',
  from: 'canary',
};

describe('pinUpdater + readPinned', () => {
  it('pin: reads back everything the pin says', () => {
    const text = pinUpdater('pin', promotion)(undefined);
    expect(readPinned('pin', text, 'ghcr.io/acme/api')).toEqual({
      image: 'ghcr.io/acme/api',
      digest: A,
      version: '1.3.0',
      tag: 'api/v1.3.0',
      imageTag: undefined,
      promotedAt: '2026-11-21T10:00:00Z',
      promotedBy: 'alice',
      from: 'canary',
    });
  });

  it('helm: the image block, version derived from the image tag', () => {
    const text = pinUpdater('helm', promotion)('replicas: 2\n');
    expect(readPinned('helm', text, 'ghcr.io/acme/api')).toMatchObject({ image: 'ghcr.io/acme/api', digest: A, imageTag: 'v1.3.0', version: '1.3.0' });
  });

  it('helm with a nested key, kustomize with a placeholder name', () => {
    const helm = pinUpdater('helm', promotion, { helmKey: 'api.image' })('api:\n  replicas: 2\n');
    expect(readPinned('helm', helm, 'ghcr.io/acme/api', { helmKey: 'api.image' })?.digest).toBe(A);
    const kustomize = pinUpdater('kustomize', promotion, { kustomizeName: 'api' })('resources: []\n');
    expect(readPinned('kustomize', kustomize, 'ghcr.io/acme/api', { kustomizeName: 'api' })).toMatchObject({ image: 'ghcr.io/acme/api', digest: A, version: '1.3.0' });
  });

  it('reads nothing pinned from a missing file, a file without the image, or a tag-only file', () => {
    expect(readPinned('pin', undefined, 'x')).toBeUndefined();
    expect(readPinned('helm', 'image:\n  repository: ghcr.io/acme/api\n  tag: v1.2.2\n', 'ghcr.io/acme/api')).toBeUndefined();
    expect(readPinned('kustomize', 'images:\n- name: ghcr.io/acme/vault\n  digest: ' + A + '\n', 'ghcr.io/acme/api')).toBeUndefined();
  });

  it('staging-line image tags give their version; sha tags give none', () => {
    const staging = pinUpdater('kustomize', { ...promotion, imageTag: '0.1.2-staging.3' })('images: []\n');
    expect(readPinned('kustomize', staging, 'ghcr.io/acme/api')?.version).toBe('0.1.2-staging.3');
    const sha = pinUpdater('helm', { ...promotion, imageTag: 'sha-abc1234' })('replicas: 1\n');
    expect(readPinned('helm', sha, 'ghcr.io/acme/api')?.version).toBeUndefined();
  });
});
