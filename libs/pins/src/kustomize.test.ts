import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { readKustomizeImage, updateKustomizeImage } from './kustomize.js';

const golden = (name: string) => readFileSync(new URL(`../test/golden/${name}`, import.meta.url), 'utf8');
const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;

describe('updateKustomizeImage', () => {
  it('edits the matching entry in place, keeping comments and odd key order (golden)', () => {
    const update = updateKustomizeImage({ image: 'ghcr.io/acme/api', name: 'api', tag: 'v1.3.0', digest: A });
    expect(update(golden('kustomization.input.yaml'))).toBe(golden('kustomization.expected.yaml'));
  });

  it('finds the entry by newName when the caller does not know the placeholder name', () => {
    const update = updateKustomizeImage({ image: 'ghcr.io/acme/api', tag: 'v1.3.0', digest: A });
    expect(update(golden('kustomization.input.yaml'))).toBe(golden('kustomization.expected.yaml'));
  });

  it('appends an entry for an image the list lacks, in the list own style (golden)', () => {
    const update = updateKustomizeImage({ image: 'ghcr.io/acme/web', tag: '2.10', digest: A });
    expect(update(golden('kustomization.input.yaml'))).toBe(golden('kustomization-new-entry.expected.yaml'));
  });

  it('adds images: when the kustomization has none', () => {
    const input = 'resources:\n- deployment.yaml\n';
    const out = updateKustomizeImage({ image: 'ghcr.io/acme/api', name: 'api', tag: 'v1', digest: A })(input);
    expect(out).toBe(`resources:\n- deployment.yaml\nimages:\n- name: api\n  newName: ghcr.io/acme/api\n  newTag: v1\n  digest: ${A}\n`);
    const indented = updateKustomizeImage({ image: 'ghcr.io/acme/api', digest: A })('resources:\n  - deployment.yaml\n');
    expect(indented).toBe(`resources:\n  - deployment.yaml\nimages:\n  - name: ghcr.io/acme/api\n    digest: ${A}\n`);
  });

  it('adds missing keys after their siblings and drops newTag for a digest-only promotion', () => {
    const input = `images:\n- name: ghcr.io/acme/api # the api\n  newTag: v1.2.2\n`;
    expect(updateKustomizeImage({ image: 'ghcr.io/acme/api', digest: A })(input)).toBe(`images:\n- name: ghcr.io/acme/api # the api\n  digest: ${A}\n`);
  });

  it('falls back to the YAML document when the key to drop shares the dash line', () => {
    const input = `images:\n- newTag: v1.2.2 # old\n  name: ghcr.io/acme/api\n  digest: ${B}\n`;
    const out = updateKustomizeImage({ image: 'ghcr.io/acme/api', digest: A })(input);
    expect(parse(out)).toEqual({ images: [{ name: 'ghcr.io/acme/api', digest: A }] });
  });

  it('is idempotent', () => {
    const update = updateKustomizeImage({ image: 'ghcr.io/acme/web', tag: '2.10', digest: A });
    const once = update(golden('kustomization.input.yaml'));
    expect(update(once)).toBe(once);
  });

  it.each([
    ['images is a mapping', 'images:\n  api: x\n', 'images'],
    ['an entry is a string', 'images:\n- ghcr.io/acme/api\n', 'images[0]'],
    ['the root is a list', '- a\n', ''],
  ])('refuses a kustomization where %s (exit 2)', (_name, input, field) => {
    expect(() => updateKustomizeImage({ image: 'ghcr.io/acme/api', digest: A, path: 'k/kustomization.yaml' })(input)).toThrow(
      expect.objectContaining({ name: 'PinDocumentError', exitCode: 2, field, path: 'k/kustomization.yaml' }),
    );
  });

  it.each([
    [{ tag: 'latest' }, 'E_FLOATING_TAG'],
    [{ tag: 'main' }, 'E_FLOATING_TAG'],
    [{ digest: 'latest' }, 'E_DIGEST_INVALID'],
    [{ image: 'ghcr.io/acme/api:v1' }, 'E_REF_INVALID'],
  ])('refuses %j (exit 2)', (override, code) => {
    expect(() => updateKustomizeImage({ image: 'ghcr.io/acme/api', digest: A, ...override })).toThrow(expect.objectContaining({ code, exitCode: 2 }));
  });
});

describe('readKustomizeImage', () => {
  it('reads the entry by name or newName', () => {
    const text = golden('kustomization.input.yaml');
    expect(readKustomizeImage(text, { image: 'ghcr.io/acme/api' })).toEqual({ name: 'api', newName: 'ghcr.io/acme/api', newTag: 'v1.2.2', digest: B });
    expect(readKustomizeImage(text, { image: 'ghcr.io/acme/vault' })).toEqual({ name: 'ghcr.io/acme/vault', newName: undefined, newTag: '0.4.0', digest: undefined });
    expect(readKustomizeImage(text, { image: 'ghcr.io/acme/web' })).toBeUndefined();
  });
});

describe('updateKustomizeImage on an empty list', () => {
  it('turns images: [] into a block list', () => {
    expect(updateKustomizeImage({ image: 'ghcr.io/acme/api', digest: A })('images: []\n')).toBe(`images:\n  - name: ghcr.io/acme/api\n    digest: ${A}\n`);
  });
});
