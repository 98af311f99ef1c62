import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { openOciLayout } from '../oci-layout.js';
import { pushImage } from '../push-image.js';
import { PrebuiltNotFoundError, PrebuiltTemplateError } from './errors.js';
import { buildLayerImage } from './layer.js';
import { expandPrebuiltTemplate, locatePrebuilt } from './prebuilt.js';

const COMMIT = '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d';
const IMAGE = 'ghcr.io/acme/api';

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-prebuilt-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('expandPrebuiltTemplate', () => {
  it.each([
    ['{image}:sha-{sha7}', 'ghcr.io/acme/api:sha-1a2b3c4', 'sha-1a2b3c4'],
    ['{image}:{sha}', `ghcr.io/acme/api:${COMMIT}`, COMMIT],
    ['{image}:{version}-{sha7}', 'ghcr.io/acme/api:1.2.3-1a2b3c4', '1.2.3-1a2b3c4'],
    ['{image}-ci:sha-{sha7}', 'ghcr.io/acme/api-ci:sha-1a2b3c4', 'sha-1a2b3c4'],
    ['ghcr.io/acme/builds:api-{sha7}', 'ghcr.io/acme/builds:api-1a2b3c4', 'api-1a2b3c4'],
  ])('expands %s', (template, ref, tag) => {
    const expanded = expandPrebuiltTemplate({ template, image: IMAGE, commit: COMMIT, version: '1.2.3' });
    expect(expanded.ref).toBe(ref);
    expect(expanded.image.tag).toBe(tag);
  });

  it.each([
    ['latest', '{image}:latest', undefined],
    ['a tag that is the same for every commit', '{image}:release', undefined],
    ['a floating branch tag', '{image}:main', undefined],
    ['a missing tag', '{image}', undefined],
    ['an unknown placeholder', '{image}:{branch}-{sha7}', undefined],
    ['{version} without a version', '{image}:{version}', undefined],
    ['{version} that expands to latest', '{image}:{version}', 'latest'],
    ['another registry', 'docker.io/acme/api:sha-{sha7}', undefined],
    ['a placeholder only in the repository', '{image}/{sha7}:stable-build', undefined],
    ['an invalid reference', '{image}:sha {sha7}', undefined],
  ])('refuses %s (bad input, exit 2)', (_what, template, version) => {
    let error: unknown;
    try {
      expandPrebuiltTemplate({ template, image: IMAGE, commit: COMMIT, ...(version === undefined ? {} : { version }) });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PrebuiltTemplateError);
    expect(error).toMatchObject({ code: 'E_PREBUILT_TEMPLATE', exitCode: 2, template });
  });

  it('needs the full commit', () => {
    expect(() => expandPrebuiltTemplate({ template: '{image}:sha-{sha7}', image: IMAGE, commit: '1a2b3c4' })).toThrow(PrebuiltTemplateError);
  });
});

describe('locatePrebuilt', () => {
  it('resolves the image CI pushed for the commit to its digest', async () => {
    const dir = await tempDir();
    const registry = openOciLayout(dir);
    const src = join(dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'index.js'), 'ci build');
    const built = await buildLayerImage({ from: 'scratch', dir: src, entrypoint: ['node', '/app/index.js'] });
    await pushImage({ registry, repository: 'api', image: built, tags: ['sha-1a2b3c4'] });

    const found = await locatePrebuilt({ template: '{image}:sha-{sha7}', image: `oci-layout:${dir}/api`, commit: COMMIT, registry });
    expect(found).toMatchObject({ ref: `oci-layout:${dir}/api:sha-1a2b3c4`, digest: built.manifest.digest });
    expect(found.image).toMatchObject({ repository: 'api', tag: 'sha-1a2b3c4' });
  });

  it('says which ref is missing and that CI must build it for this commit', async () => {
    const dir = await tempDir();
    const other = 'ffffffffffffffffffffffffffffffffffffffff';
    const error = await locatePrebuilt({ template: '{image}:sha-{sha7}', image: `oci-layout:${dir}/api`, commit: other, registry: openOciLayout(dir) }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PrebuiltNotFoundError);
    expect(error).toMatchObject({ code: 'E_PREBUILT_NOT_FOUND', exitCode: 1, ref: `oci-layout:${dir}/api:sha-fffffff`, commit: other });
    expect((error as Error).message).toContain(`CI must build and push it for commit ${other}`);
  });
});
