import { mkdir, mkdtemp, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeDigest } from '@slipway/registry';
import { describe, expect, it, onTestFinished } from 'vitest';
import { json, pinsWorkspace } from '../pins-fixtures.js';

// An OCI layout named on the command line (image copy, image resolve) or as a layer build's base is
// a folder the user gives: a huge index.json, or a base config that is not the size its descriptor
// declares, is bad input — exit 2 naming the file, nothing written. The huge files are sparse.

const GiB = 1024 * 1024 * 1024;
type ErrorDoc = { error: { code: string; message: string } };
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

async function layoutRepo(root: string) {
  await mkdir(join(root, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(root, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const blob = (digest: string) => join(root, 'blobs', 'sha256', digest.slice('sha256:'.length));
  return { blob };
}

async function sparse(path: string, bytes: number): Promise<void> {
  await writeFile(path, '');
  await truncate(path, bytes);
}

describe('a hostile OCI layout through the CLI', () => {
  it('image resolve and image copy from a layout whose index.json is 1.5 GiB: exit 2 naming it, nothing copied', async () => {
    const ws = await pinsWorkspace();
    const holder = await mkdtemp(join(tmpdir(), 'slipway-hostile-layout-'));
    onTestFinished(() => rm(holder, { recursive: true, force: true }));
    await layoutRepo(join(holder, 'src', 'api'));
    const index = join(holder, 'src', 'api', 'index.json');
    await sparse(index, 1.5 * GiB);

    const resolve = await ws.run(['image', 'resolve', `oci-layout:${holder}/src/api:v1`, '--json']);
    expect(resolve.exitCode, resolve.stdout).toBe(2);
    expect(json<ErrorDoc>(resolve).error).toMatchObject({ code: 'E_OCI_LAYOUT_TOO_LARGE', message: expect.stringContaining(index) });

    const copy = await ws.run(['image', 'copy', `oci-layout:${holder}/src/api:v1`, `oci-layout:${holder}/dst/api:v1`, '--json']);
    expect(copy.exitCode, copy.stdout).toBe(2);
    expect(json<ErrorDoc>(copy).error).toMatchObject({ code: 'E_OCI_LAYOUT_TOO_LARGE', message: expect.stringContaining(index) });
    expect(await readdir(holder)).toEqual(['src']);
  });

  it('publish of a layer built from a layout base whose config is larger than its descriptor: exit 2 naming the file, no image', async () => {
    const holder = await mkdtemp(join(tmpdir(), 'slipway-hostile-base-'));
    onTestFinished(() => rm(holder, { recursive: true, force: true }));
    const base = await layoutRepo(join(holder, 'base'));
    const config = `sha256:${'7'.repeat(64)}`;
    await sparse(base.blob(config), 1.5 * GiB);
    const manifest = encode({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 1000 }, layers: [] });
    const manifestDigest = computeDigest(manifest);
    await writeFile(base.blob(manifestDigest), manifest);
    await writeFile(
      join(holder, 'base', 'index.json'),
      encode({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }] }),
    );

    const ws = await pinsWorkspace({ services: { api: { root: 'apps/api', build: { type: 'layer', from: `oci-layout:${holder}/base:v1`, dir: 'apps/api' } } } });
    await ws.repo.tag('api/v1.0.0', { message: 'api 1.0.0' });
    await ws.repo.push('refs/tags/api/v1.0.0');

    const publish = await ws.run(['publish', 'api/v1.0.0', '--json']);
    expect(publish.exitCode, publish.stdout + publish.stderr).toBe(2);
    expect(json<ErrorDoc>(publish).error.message).toContain(base.blob(config));
    expect(json<ErrorDoc>(publish).error.message).toMatch(/more than the 1000 bytes its descriptor declares/);
    await expect(readdir(join(ws.layoutDir, 'api'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
