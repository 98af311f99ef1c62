// Blobs as streams: readers that verify what they hand out, and sources a streaming push can
// re-open, so a layer is never held whole in memory on its way between two stores.

import { open } from 'node:fs/promises';
import { digestHasher } from './digest.js';
import { DigestMismatchError } from './errors.js';
import type { BlobReader, BlobSource, Registry } from './types.js';

/** Readers made by verifyingReader, and the digest each checks: an upload from one need not hash the bytes again. */
const verifiedReaders = new WeakMap<BlobReader, string>();

/**
 * The digest `reader` checks its bytes against (its iteration throws instead of ending when they
 * differ), when it is one of ours; undefined for any other reader, whose bytes the caller must hash.
 */
export function verifiedDigest(reader: BlobReader): string | undefined {
  return verifiedReaders.get(reader);
}

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
  const reader: BlobReader = { size: options.size, chunks: chunks(), close };
  verifiedReaders.set(reader, options.digest);
  return reader;
}

/**
 * `source`, telling `onBytes` how many of its bytes have been read so far in the current attempt
 * (0 again when a failed transfer re-opens it): what a progress display counts.
 */
export function countingSource(source: BlobSource, onBytes: (bytes: number) => void): BlobSource {
  return {
    ...source,
    async open() {
      const reader = await source.open();
      onBytes(0);
      let bytes = 0;
      const inner = reader.chunks;
      const counted: BlobReader = {
        size: reader.size,
        chunks: (async function* () {
          for await (const piece of inner) {
            bytes += piece.length;
            onBytes(bytes);
            yield piece;
          }
        })(),
        close: () => reader.close(),
      };
      // Counting changes no byte: what the inner reader verifies, this one does.
      const digest = verifiedDigest(reader);
      if (digest !== undefined) verifiedReaders.set(counted, digest);
      return counted;
    },
  };
}

/**
 * A source over bytes already in memory (what pushBlob uploads from). `hashed`: the caller has
 * checked them against the digest already, so the upload need not hash them again.
 */
export function bytesSource(blob: { digest: string; bytes: Uint8Array }, options: { hashed?: boolean } = {}): BlobSource {
  return {
    digest: blob.digest,
    size: blob.bytes.length,
    open: async () => {
      const reader: BlobReader = {
        size: blob.bytes.length,
        chunks: (async function* () {
          yield blob.bytes;
        })(),
        close: async () => undefined,
      };
      if (options.hashed === true) verifiedReaders.set(reader, blob.digest);
      return reader;
    },
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
