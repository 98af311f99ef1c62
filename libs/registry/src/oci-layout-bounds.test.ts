import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { computeDigest } from './digest.js';
import { MAX_MANIFEST_BYTES } from './limits.js';
import { MediaTypes } from './types.js';

// An OCI layout is a folder the user names, so it is read like a hostile registry's answers: with
// the registry client's bounds (limits.ts), a descriptor's declared size enforced both ways, and a
// readable error naming the file, exit 2. The huge files are sparse (truncate): they cost no disk,
// and the child process reading them must keep its peak RSS under 300 MiB. A file that is a
// device (/dev/zero) or a pipe is refused unread.

const GiB = 1024 * 1024 * 1024;
const MiB = 1024 * 1024;
const child = fileURLToPath(new URL('../test/layout-rss-child.ts', import.meta.url));
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const FAKE = `sha256:${'5'.repeat(64)}`;

interface Repo {
  root: string;
  blob(digest: string): string;
  index(entries: { digest: string; size: number }[]): Promise<void>;
  put(bytes: Uint8Array): Promise<string>;
}

async function repo(layout: string, name: string): Promise<Repo> {
  const root = join(layout, name);
  await mkdir(join(root, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(root, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const blob = (digest: string) => join(root, 'blobs', 'sha256', digest.slice('sha256:'.length));
  return {
    root,
    blob,
    async index(entries) {
      const manifests = entries.map((e) => ({ mediaType: MediaTypes.ociManifest, ...e, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }));
      await writeFile(join(root, 'index.json'), encode({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests }));
    },
    async put(bytes) {
      const digest = computeDigest(bytes);
      await writeFile(blob(digest), bytes);
      return digest;
    },
  };
}

/** A base image whose manifest is sound and whose config descriptor declares `size`; the config file is made by `place`. */
async function baseWithConfig(layout: string, name: string, size: number, place: (path: string) => Promise<void>): Promise<void> {
  const r = await repo(layout, name);
  await place(r.blob(FAKE));
  const manifest = encode({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: { mediaType: MediaTypes.ociConfig, digest: FAKE, size }, layers: [] });
  await r.index([{ digest: await r.put(manifest), size: manifest.length }]);
}

const sparse = (bytes: number) => async (path: string) => {
  await writeFile(path, '');
  await truncate(path, bytes);
};
const devZero = async (path: string) => symlink('/dev/zero', path);

describe('an OCI layout folder is read within the registry client bounds', () => {
  it('huge, endless and lying files: typed errors naming the file (exit 2), peak RSS under 300 MiB', { timeout: 120_000 }, async () => {
    const layout = await mkdtemp(join(tmpdir(), 'slipway-hostile-layout-'));
    onTestFinished(() => rm(layout, { recursive: true, force: true }));

    const hugeIndex = await repo(layout, 'huge-index');
    await sparse(1.5 * GiB)(join(hugeIndex.root, 'index.json'));
    const zeroIndex = await repo(layout, 'zero-index');
    await devZero(join(zeroIndex.root, 'index.json'));

    const hugeManifest = await repo(layout, 'huge-manifest');
    await hugeManifest.index([{ digest: FAKE, size: 500 }]);
    await sparse(1.5 * GiB)(hugeManifest.blob(FAKE));
    const zeroManifest = await repo(layout, 'zero-manifest');
    await zeroManifest.index([{ digest: FAKE, size: 500 }]);
    await devZero(zeroManifest.blob(FAKE));
    const declaredManifest = await repo(layout, 'declared-manifest');
    await declaredManifest.index([{ digest: FAKE, size: 1.5 * GiB }]);
    await sparse(1.5 * GiB)(declaredManifest.blob(FAKE));

    const offManifest = await repo(layout, 'off-manifest');
    const sound = encode({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: { mediaType: MediaTypes.ociConfig, digest: FAKE, size: 2 }, layers: [] });
    await offManifest.index([{ digest: await offManifest.put(sound), size: sound.length + 1 }]);

    await baseWithConfig(layout, 'huge-config', 1000, sparse(1.5 * GiB));
    await baseWithConfig(layout, 'zero-config', 1000, devZero);
    await baseWithConfig(layout, 'short-config', 1000, (path) => writeFile(path, '{}'));

    const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=@slipway/source', '--import', 'tsx', child], {
      env: { ...process.env, LAYOUT_DIR: layout },
      timeout: 100_000,
    });
    const { results, maxRssKiB } = JSON.parse(stdout) as { results: Record<string, { error: string; exitCode: unknown; message: string }>; maxRssKiB: number };

    const tooLarge = (file: string) => ({ error: 'OciLayoutError E_OCI_LAYOUT_TOO_LARGE', exitCode: 2, message: expect.stringContaining(file) as unknown });
    const mismatch = (file: string) => ({ error: 'OciLayoutError E_OCI_LAYOUT_SIZE_MISMATCH', exitCode: 2, message: expect.stringContaining(file) as unknown });
    const special = (file: string) => ({ error: 'OciLayoutError E_OCI_LAYOUT_NOT_A_FILE', exitCode: 2, message: expect.stringContaining(file) as unknown });
    const blob = (name: string) => join(layout, name, 'blobs', 'sha256', FAKE.slice('sha256:'.length));
    expect(results).toEqual({
      'index.json of 1.5 GiB': tooLarge(join(layout, 'huge-index', 'index.json')),
      'index.json linked to /dev/zero': special(join(layout, 'zero-index', 'index.json')),
      'manifest of 1.5 GiB': tooLarge(blob('huge-manifest')),
      'manifest linked to /dev/zero': special(blob('zero-manifest')),
      'manifest declared at 1.5 GiB': tooLarge(blob('declared-manifest')),
      'manifest one byte off its descriptor': mismatch(join(layout, 'off-manifest', 'blobs')),
      'base config of 1.5 GiB declared at 1000 bytes': mismatch(blob('huge-config')),
      'base config linked to /dev/zero': special(blob('zero-config')),
      'base config shorter than its descriptor': mismatch(blob('short-config')),
    });
    expect(results['manifest of 1.5 GiB']?.message).toContain(String(MAX_MANIFEST_BYTES));
    expect(results['base config shorter than its descriptor']?.message).toMatch(/has 2 bytes, not the 1000 its descriptor declares/);
    expect(maxRssKiB * 1024, `peak RSS ${Math.round(maxRssKiB / 1024)} MiB`).toBeLessThan(300 * MiB);
  });
});
