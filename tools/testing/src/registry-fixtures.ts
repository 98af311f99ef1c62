// Tiny but valid images for registry tests, built without any Slipway code so a test of the
// registry client never depends on the code under test to make its inputs.

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface TestBlob {
  mediaType: string;
  digest: string;
  size: number;
  bytes: Uint8Array;
}

export interface TestImage {
  mediaType: 'application/vnd.oci.image.manifest.v1+json';
  digest: string;
  bytes: Uint8Array;
  platform: { architecture: string; os: string };
  config: TestBlob;
  layers: TestBlob[];
}

export interface TestIndex {
  mediaType: 'application/vnd.oci.image.index.v1+json';
  digest: string;
  bytes: Uint8Array;
  images: TestImage[];
}

export interface TestImageOptions {
  /** Text of the one file in the layer; default random, so each image is distinct. */
  content?: string;
  architecture?: string;
  os?: string;
  /** Extra random bytes in the layer's file, to make a large blob. */
  padBytes?: number;
  /** The config's Labels (none by default). */
  labels?: Record<string, string>;
  /** Name of the one file in the layer; default `hello.txt`. */
  fileName?: string;
}

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const blob = (mediaType: string, bytes: Uint8Array): TestBlob => ({ mediaType, digest: sha256(bytes), size: bytes.length, bytes: plain(bytes) });
// Plain Uint8Array (not Buffer), so tests can compare with what the client returns.
const plain = (bytes: Uint8Array) => new Uint8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));

/** One-layer linux image: a gzipped tar holding `/hello.txt`. */
export function makeTestImage(options: TestImageOptions = {}): TestImage {
  const architecture = options.architecture ?? 'amd64';
  const os = options.os ?? 'linux';
  const text = Buffer.from(options.content ?? `hello ${randomBytes(8).toString('hex')}\n`);
  const file = options.padBytes ? Buffer.concat([text, randomBytes(options.padBytes)]) : text;
  const name = options.fileName ?? 'hello.txt';
  const tar = tarOneFile(name, file);
  const layer = blob('application/vnd.oci.image.layer.v1.tar+gzip', new Uint8Array(gzipSync(tar)));
  const config = blob(
    'application/vnd.oci.image.config.v1+json',
    Buffer.from(
      JSON.stringify({
        architecture,
        os,
        config: { Cmd: [`/${name}`], ...(options.labels ? { Labels: options.labels } : {}) },
        rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
      }),
    ),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
      layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }],
    }),
  );
  return { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(manifest), bytes: plain(manifest), platform: { architecture, os }, config, layers: [layer] };
}

/** An OCI index over `images`, each entry carrying its platform. */
export function makeTestIndex(images: TestImage[]): TestIndex {
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: images.map((i) => ({ mediaType: i.mediaType, digest: i.digest, size: i.bytes.length, platform: i.platform })),
    }),
  );
  return { mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha256(bytes), bytes: plain(bytes), images };
}

/** Two platforms (linux/amd64, linux/arm64) under one index. */
export function makeTestMultiPlatform(): TestIndex {
  return makeTestIndex([makeTestImage({ architecture: 'amd64' }), makeTestImage({ architecture: 'arm64' })]);
}

/**
 * Write an OCI image layout at `dir` holding `content` tagged `tag`: a source for
 * `skopeo copy oci:<dir>:<tag> docker://…`, an independent way to seed a registry.
 */
export async function writeTestLayout(dir: string, content: TestImage | TestIndex, tag: string): Promise<void> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const put = (digest: string, bytes: Uint8Array) => writeFile(join(blobs, digest.slice('sha256:'.length)), bytes);
  const images = 'images' in content ? content.images : [content];
  for (const image of images) {
    for (const b of [image.config, ...image.layers]) await put(b.digest, b.bytes);
    await put(image.digest, image.bytes);
  }
  await put(content.digest, content.bytes);
  await writeLayoutIndex(dir, { mediaType: content.mediaType, digest: content.digest, size: content.bytes.length }, tag);
}

/** The `oci-layout` marker and an `index.json` naming `top` (its blobs already under `dir`) as `tag`. */
export async function writeLayoutIndex(dir: string, top: { mediaType: string; digest: string; size: number }, tag: string): Promise<void> {
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ ...top, annotations: { 'org.opencontainers.image.ref.name': tag } }],
    }),
  );
}

function tarOneFile(name: string, content: Uint8Array): Buffer {
  const header = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string) => header.write(value, offset, length, 'ascii');
  const octal = (value: number, length: number) => value.toString(8).padStart(length - 1, '0') + '\0';
  field(0, 100, name);
  field(100, 8, octal(0o644, 8));
  field(108, 8, octal(0, 8));
  field(116, 8, octal(0, 8));
  field(124, 12, octal(content.length, 12));
  field(136, 12, octal(0, 12));
  field(148, 8, '        ');
  field(156, 1, '0');
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  let sum = 0;
  for (const byte of header) sum += byte;
  field(148, 8, octal(sum, 7) + ' ');
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, padding, Buffer.alloc(1024)]);
}
