import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTestMultiPlatform, startRegistry, writeTestLayout, type RegistryPeer } from '@slipway/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/run-cli.js';
import { formatBytes } from '../progress.js';

const exec = promisify(execFile);
let registry: RegistryPeer;
let workspace: string;
const index = makeTestMultiPlatform();

async function skopeoDigest(ref: string): Promise<string> {
  const { stdout } = await exec('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
  const { createHash } = await import('node:crypto');
  return `sha256:${createHash('sha256').update(stdout).digest('hex')}`;
}

beforeAll(async () => {
  registry = await startRegistry();
  workspace = await mkdtemp(join(tmpdir(), 'slipway-image-'));
  await writeFile(join(workspace, 'services.json'), JSON.stringify({ registry: registry.host, insecureRegistries: [registry.host], services: { api: {} } }));
  // Seed with skopeo, an independent client: a two-platform index at src:v1.
  const layout = join(workspace, 'seed');
  await writeTestLayout(layout, index, 'v1');
  await exec('skopeo', ['copy', '--all', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${registry.host}/src:v1`]);
});

afterAll(async () => {
  await registry?.stop();
  if (workspace) await rm(workspace, { recursive: true, force: true });
});

describe('slipway image', () => {
  it('resolve prints the digest of a tag', async () => {
    const { exitCode, stdout } = await runCli(['image', 'resolve', `${registry.host}/src:v1`, '--json', '--cwd', workspace]);
    expect(exitCode).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ digest: index.digest, mediaType: 'application/vnd.oci.image.index.v1+json' });
  });

  it('resolve refuses a reference without tag or digest (exit 2, never "latest")', async () => {
    const { exitCode, stderr } = await runCli(['image', 'resolve', `${registry.host}/src`, '--cwd', workspace]);
    expect(exitCode).toBe(2);
    expect(stderr).toContain('never assumes "latest"');
  });

  it('resolve of a missing tag is exit 1 naming it', async () => {
    const { exitCode, stderr } = await runCli(['image', 'resolve', `${registry.host}/src:nope`, '--cwd', workspace]);
    expect(exitCode).toBe(1);
    expect(stderr).toContain('src:nope');
  });

  it('copy puts every platform under new tags in another repository, digest preserved (witness: skopeo)', async () => {
    const { exitCode, stdout } = await runCli(
      ['image', 'copy', `${registry.host}/src:v1`, `${registry.host}/dst:v1`, `${registry.host}/dst:1`, '--json', '--cwd', workspace],
    );
    expect(exitCode, stdout).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.digest).toBe(index.digest);
    expect(result.blobs.uploadedBytes).toBe(0);
    expect(await skopeoDigest(`${registry.host}/dst:v1`)).toBe(index.digest);
    expect(await skopeoDigest(`${registry.host}/dst:1`)).toBe(index.digest);
    for (const image of index.images) expect(await skopeoDigest(`${registry.host}/dst@${image.digest}`)).toBe(image.digest);
  });

  it('copy across registries says one line per step on stderr when it is not a terminal (CI logs), with --json too', async () => {
    const other = await startRegistry();
    try {
      await writeFile(
        join(workspace, 'services.json'),
        JSON.stringify({ registry: registry.host, insecureRegistries: [registry.host, other.host], services: { api: {} } }),
      );
      const bytes = index.images.flatMap((image) => [image.config, ...image.layers]).reduce((sum, blob) => sum + blob.size, 0);
      for (const [tag, json] of [
        ['v1', false],
        ['v2', true],
      ] as const) {
        const { exitCode, stdout, stderr } = await runCli(['image', 'copy', `${registry.host}/src:v1`, `${other.host}/mirror-${tag}:${tag}`, ...(json ? ['--json'] : []), '--cwd', workspace]);
        expect(exitCode, stderr).toBe(0);
        expect(stderr.split('\n')).toEqual([
          `copying ${registry.host}/src:v1 to 1 repository…`,
          expect.stringMatching(new RegExp(`^copied ${registry.host}/src:v1@${index.digest} \\(${formatBytes(bytes)} in \\d+\\.\\d s\\)$`)),
          '',
        ]);
        // eslint-disable-next-line no-control-regex -- matching terminal controls is the point
        expect(stderr).not.toMatch(/[\r\u001b]/);
        if (json) expect(JSON.parse(stdout)).toMatchObject({ digest: index.digest, blobs: { uploadedBytes: bytes } });
        expect(await skopeoDigest(`${other.host}/mirror-${tag}:${tag}`)).toBe(index.digest);
      }
    } finally {
      await writeFile(join(workspace, 'services.json'), JSON.stringify({ registry: registry.host, insecureRegistries: [registry.host], services: { api: {} } }));
      await other.stop();
    }
  });

  it('copy refuses to move an existing tag to another digest (exit 3) and leaves it', async () => {
    const other = makeTestMultiPlatform();
    const layout = join(workspace, 'other');
    await writeTestLayout(layout, other, 'v2');
    await exec('skopeo', ['copy', '--all', '--dest-tls-verify=false', `oci:${layout}:v2`, `docker://${registry.host}/src:v2`]);
    await runCli(['image', 'copy', `${registry.host}/src:v1`, `${registry.host}/taken:v1`, '--cwd', workspace]);
    const { exitCode, stderr } = await runCli(['image', 'copy', `${registry.host}/src:v2`, `${registry.host}/taken:v1`, '--cwd', workspace]);
    expect(exitCode).toBe(3);
    expect(stderr).toMatch(/taken/);
    expect(await skopeoDigest(`${registry.host}/taken:v1`)).toBe(index.digest);
  });

  it('copy --dry-run writes nothing', async () => {
    const { exitCode, stdout } = await runCli(['image', 'copy', `${registry.host}/src:v1`, `${registry.host}/dry:v1`, '--dry-run', '--json', '--cwd', workspace]);
    expect(exitCode).toBe(0);
    expect(JSON.parse(stdout).plan).toEqual([{ destination: `${registry.host}/dry:v1`, action: 'would tag' }]);
    await expect(skopeoDigest(`${registry.host}/dry:v1`)).rejects.toThrow();
  });

  it('tags lists every tag', async () => {
    await runCli(['image', 'copy', `${registry.host}/src:v1`, ...['a', 'b', 'c'].map((t) => `${registry.host}/many:${t}`), '--cwd', workspace]);
    const { exitCode, stdout } = await runCli(['image', 'tags', `${registry.host}/many`, '--json', '--cwd', workspace]);
    expect(exitCode).toBe(0);
    expect(JSON.parse(stdout).tags).toEqual(['a', 'b', 'c']);
  });
});
