// Blobs as streams: readers that verify what they hand out, and sources a streaming push can
// re-open, so a layer is never held whole in memory on its way between two stores.

import { open } from 'node:fs/promises';
import { digestHasher } from './digest.js';
import { DigestMismatchError } from './errors.js';
import type { BlobReader, BlobSource, Registry } from './types.js';

/**
 * A reader over `pieces` that hashes them as they pass and, at the end, throws `mismatch(actual)`
 * instead of finishing when they are not `digest`. Closes the underlying source once, however
 * the iteration ends.
 */
export function verifyingReader(options: {
  digest: string;
  size: number | undefined;
  pieces: AsyncIterable<Uint8Array>;
  close: () => Promise<void>;
  mismatch: (actual: string) => Error;
}): BlobReader {
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await options.close();
  };
  async function* chunks(): AsyncGenerator<Uint8Array> {
    const hash = digestHasher(options.digest);
    try {
      for await (const piece of options.pieces) {
        hash.update(piece);
        yield piece;
      }
      const actual = hash.digest();
      if (actual !== options.digest) throw options.mismatch(actual);
    } finally {
      await close();
    }
  }
  return { size: options.size, chunks: chunks(), close };
}

/** A source over bytes already in memory (what pushBlob uploads from). */
export function bytesSource(blob: { digest: string; bytes: Uint8Array }): BlobSource {
  return {
    digest: blob.digest,
    size: blob.bytes.length,
    open: async () => ({
      size: blob.bytes.length,
      chunks: (async function* () {
        yield blob.bytes;
      })(),
      close: async () => undefined,
    }),
  };
}

const FILE_PIECE_BYTES = 1024 * 1024;

/** A source over a file holding the blob (a layer spooled by the builder), hashed again as it is read. */
export function fileBlobSource(path: string, blob: { digest: string; size: number }): BlobSource {
  return {
    digest: blob.digest,
    size: blob.size,
    async open() {
      const handle = await open(path, 'r');
      async function* pieces(): AsyncGenerator<Uint8Array> {
        for (;;) {
          // A new buffer per piece: the consumer may still hold the previous one.
          const buffer = new Uint8Array(FILE_PIECE_BYTES);
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
          if (bytesRead === 0) return;
          yield buffer.subarray(0, bytesRead);
        }
      }
      return verifyingReader({
        digest: blob.digest,
        size: blob.size,
        pieces: pieces(),
        close: () => handle.close(),
        mismatch: (actual) => new DigestMismatchError(`${path} no longer holds blob ${blob.digest} (its content is ${actual})`, { expected: blob.digest, actual }),
      });
    },
  };
}

export type BlobOpening = Registry & Required<Pick<Registry, 'openBlob'>>;
export type BlobPushingFrom = Registry & Required<Pick<Registry, 'pushBlobFrom'>>;

export function canOpenBlobs(registry: Registry): registry is BlobOpening {
  return typeof registry.openBlob === 'function';
}

export function canPushBlobsFrom(registry: Registry): registry is BlobPushingFrom {
  return typeof registry.pushBlobFrom === 'function';
}

/** `digest` in `repository` as a source for pushBlobFrom, re-opened (a new GET, a new file handle) on every restart. */
export function registryBlobSource(registry: BlobOpening, repository: string, blob: { digest: string; size?: number }): BlobSource {
  return {
    digest: blob.digest,
    ...(blob.size === undefined ? {} : { size: blob.size }),
    open: () => registry.openBlob(repository, blob.digest),
  };
}
