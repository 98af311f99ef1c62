import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readHelmValues, updateHelmValues } from './helm.js';

const golden = (name: string) => readFileSync(new URL(`../test/golden/${name}`, import.meta.url), 'utf8');
const A = `sha256:${'a'.repeat(64)}`;

describe('updateHelmValues', () => {
  it('changes only the image values, keeps comments, blank lines and odd key order (golden)', () => {
    const update = updateHelmValues({ repository: 'ghcr.io/acme/api', tag: 'v1.3.0', digest: A });
    expect(update(golden('helm-values.input.yaml'))).toBe(golden('helm-values.expected.yaml'));
  });

  it('is idempotent', () => {
    const update = updateHelmValues({ repository: 'ghcr.io/acme/api', tag: 'v1.3.0', digest: A });
    const once = update(golden('helm-values.input.yaml'));
    expect(update(once)).toBe(once);
  });

  it('adds a missing image block at the end with the file own indentation (golden)', () => {
    const update = updateHelmValues({ repository: 'ghcr.io/acme/api', tag: 'v1.3.0', digest: A });
    expect(update(golden('helm-no-image.input.yaml'))).toBe(golden('helm-no-image.expected.yaml'));
  });

  it('edits a flow-style block through the YAML document, dropping the tag when none is given (golden)', () => {
    const update = updateHelmValues({ repository: 'ghcr.io/acme/api', digest: A });
    expect(update(golden('helm-flow.input.yaml'))).toBe(golden('helm-flow.expected.yaml'));
  });

  it('removes an old tag line when promoting by digest alone, so the tag cannot contradict the digest', () => {
    const input = 'image:\n  repository: ghcr.io/acme/api\n  tag: v1.2.2 # old\n  digest: sha256:' + 'b'.repeat(64) + '\n';
    expect(updateHelmValues({ repository: 'ghcr.io/acme/api', digest: A })(input)).toBe(`image:\n  repository: ghcr.io/acme/api\n  digest: ${A}\n`);
  });

  it('quotes a tag that YAML would read as a number and fills an empty value', () => {
    const out = updateHelmValues({ repository: 'ghcr.io/acme/api', tag: '1.10', digest: A })('image:\n  repository:\n  tag: 1.9\n');
    expect(out).toBe(`image:\n  repository: ghcr.io/acme/api\n  tag: "1.10"\n  digest: ${A}\n`);
    expect(parse(out).image.tag).toBe('1.10');
  });

  it('keeps CRLF line endings and a file without a final newline', () => {
    const out = updateHelmValues({ repository: 'r.example/api', tag: 'v2', digest: A })('image:\r\n  repository: r.example/api\r\n  tag: v1');
    expect(out).toBe(`image:\r\n  repository: r.example/api\r\n  tag: v2\r\n  digest: ${A}\r\n`);
  });

  it('edits a nested image block named by key', () => {
    const input = 'api:\n  image:\n    repository: x/api # keep\n  replicas: 1\n';
    const out = updateHelmValues({ key: 'api.image', repository: 'ghcr.io/acme/api', tag: 'v1', digest: A })(input);
    expect(out).toBe(`api:\n  image:\n    repository: ghcr.io/acme/api # keep\n    tag: v1\n    digest: ${A}\n  replicas: 1\n`);
  });

  it('creates the image block in an empty or comment-only file', () => {
    expect(updateHelmValues({ repository: 'ghcr.io/acme/api', digest: A })('# values\n')).toBe(`# values\nimage:\n  repository: ghcr.io/acme/api\n  digest: ${A}\n`);
  });

  it.each([
    ['a list', '- a\n- b\n', ''],
    ['a scalar image', 'image: nginx:1.2\n', 'image'],
    ['a list image', 'image:\n  - a\n', 'image'],
    ['broken YAML', 'image: [\n', ''],
    ['two documents', 'a: 1\n---\nb: 2\n', ''],
  ])('refuses %s, naming the field and file (exit 2)', (_name, input, field) => {
    const update = updateHelmValues({ repository: 'ghcr.io/acme/api', digest: A, path: 'deploy/prod/api.yaml' });
    expect(() => update(input)).toThrow(expect.objectContaining({ name: 'PinDocumentError', code: 'E_PIN_DOCUMENT', exitCode: 2, field, path: 'deploy/prod/api.yaml' }));
  });

  it('refuses a missing values file', () => {
    expect(() => updateHelmValues({ repository: 'ghcr.io/acme/api', digest: A })(undefined)).toThrow(/does not exist/);
  });

  it.each([
    [{ tag: 'latest' }, 'E_FLOATING_TAG'],
    [{ tag: 'STAGING' }, 'E_FLOATING_TAG'],
    [{ digest: 'sha256:abc' }, 'E_DIGEST_INVALID'],
    [{ digest: `sha256:${'A'.repeat(64)}` }, 'E_DIGEST_INVALID'],
    [{ repository: 'ghcr.io/acme/api:latest' }, 'E_REF_INVALID'],
    [{ repository: `ghcr.io/acme/api@${A}` }, 'E_REF_INVALID'],
  ])('refuses %j before touching the file (exit 2)', (override, code) => {
    expect(() => updateHelmValues({ repository: 'ghcr.io/acme/api', digest: A, ...override })).toThrow(
      expect.objectContaining({ name: 'DeployRefError', code, exitCode: 2 }),
    );
  });

  it('changes no line other than the image lines, for any tag and any surrounding keys', () => {
    const key = fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,8}$/).filter((k) => k !== 'image');
    fc.assert(
      fc.property(
        fc.uniqueArray(key, { minLength: 1, maxLength: 6 }),
        fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/).filter((t) => !/^(latest|main|staging|prod)$/i.test(t)),
        (keys, tag) => {
          const before = keys.map((k, i) => `${k}: ${i} # ${k}`);
          const input = [...before.slice(0, 1), 'image:', '  repository: ghcr.io/acme/api', '  tag: old', ...before.slice(1)].join('\n') + '\n';
          let out: string;
          try {
            out = updateHelmValues({ repository: 'ghcr.io/acme/api', tag, digest: A })(input);
          } catch (error) {
            // A tag the floating list refuses is fine; anything else is a bug.
            expect((error as { code?: string }).code).toBe('E_FLOATING_TAG');
            return;
          }
          const data = parse(out);
          expect(data.image).toEqual({ repository: 'ghcr.io/acme/api', tag, digest: A });
          const kept = out.split('\n').filter((line) => !/^ {2}(tag|digest):/.test(line));
          expect(kept).toEqual(input.split('\n').filter((line) => !/^ {2}tag:/.test(line)));
        },
      ),
    );
  });
});

describe('readHelmValues', () => {
  it('reads values as written, tags as strings', () => {
    expect(readHelmValues(`image:\n  repository: a/b\n  tag: 1.10\n  digest: ${A}\n`)).toEqual({ repository: 'a/b', tag: '1.10', digest: A });
    expect(readHelmValues('image:\n  repository: a/b\n  tag: ~\n')).toEqual({ repository: 'a/b', tag: undefined, digest: undefined });
    expect(readHelmValues('replicas: 1\n')).toBeUndefined();
  });

  it('refuses a malformed digest in the file', () => {
    expect(() => readHelmValues('image:\n  digest: sha256:nope\n')).toThrow(expect.objectContaining({ code: 'E_DIGEST_INVALID', field: 'image.digest' }));
  });
});

describe('updateHelmValues on an empty image block', () => {
  it.each(['image: {}\n', 'image:\n'])('fills %j as a block', (input) => {
    expect(updateHelmValues({ repository: 'ghcr.io/acme/api', digest: A })(input)).toBe(`image:\n  repository: ghcr.io/acme/api\n  digest: ${A}\n`);
  });
});
