// One layer as a stream: tree entries → tar → gzip → sha256 → a file (or memory), never the whole
// layer at once. Memory stays at a few chunks (the file being read, zlib's window, one write)
// whatever the folder weighs.
//
// The bytes are exactly those of writeTar + gzipReproducible on the same entries: the tar is
// made by the same header code in the same order, and the block deflate's output does not depend
// on how its input is split into writes (only on the level and the block size).

import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { digestHasher } from '../digest.js';
import { sortTarEntries, tarEnd, tarHeader, tarPadding, type TarStreamEntry } from '../tar.js';
import { BuildError } from './errors.js';
import type { LayerTree, LayerTreeFile } from './layer-tree.js';
import { parallelGzip } from './parallel-gzip.js';

export interface StreamedLayer {
  /** sha256 of the gzip bytes: the blob's digest. */
  digest: string;
  size: number;
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /** The gzip bytes, when no `spoolFile` was given. */
  bytes?: Uint8Array;
}

export interface StreamLayerOptions {
  tree: LayerTree;
  /** Normalized prefix (`app`, or `''` for the root); each of its folders gets an entry. */
  prefix: string;
  mtime: number;
  /** Write the gzip bytes here (created or truncated) instead of keeping them in memory. */
  spoolFile?: string;
}

// Small pieces (headers, small files) are joined into writes of about this size: each write to
// zlib is a trip to the thread pool.
const WRITE_BYTES = 256 * 1024;

type Sourced = TarStreamEntry & { source?: LayerTreeFile };

export async function streamLayer(options: StreamLayerOptions): Promise<StreamedLayer> {
  const { tree, prefix, mtime } = options;
  const entries: Sourced[] = [];
  const parts = prefix === '' ? [] : prefix.split('/');
  for (let i = 1; i <= parts.length; i++) entries.push({ type: 'dir', path: parts.slice(0, i).join('/'), mode: 0o755 });
  for (const entry of await tree.entries()) {
    const path = prefix === '' ? entry.path : `${prefix}/${entry.path}`;
    if (entry.type === 'dir') entries.push({ type: 'dir', path, mode: 0o755 });
    else if (entry.type === 'symlink') entries.push({ type: 'symlink', path, target: entry.target });
    else entries.push({ type: 'file', path, mode: entry.executable ? 0o755 : 0o644, size: entry.size, source: entry });
  }
  const sorted = sortTarEntries(entries);
  const files = sorted.flatMap((e) => (e.type === 'file' && e.source ? [e.source] : []));

  const diff = digestHasher();
  async function* tarBytes(): AsyncGenerator<Uint8Array> {
    const contents = tree.readFiles(files)[Symbol.asyncIterator]();
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    function* take(piece: Uint8Array): Generator<Uint8Array> {
      diff.update(piece);
      if (piece.length >= WRITE_BYTES) {
        yield* flush();
        yield piece;
        return;
      }
      pending.push(piece);
      pendingBytes += piece.length;
      if (pendingBytes >= WRITE_BYTES) yield* flush();
    }
    function* flush(): Generator<Uint8Array> {
      if (pendingBytes === 0) return;
      yield pending.length === 1 ? (pending[0] as Uint8Array) : Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
    }
    try {
      for (const entry of sorted) {
        yield* take(tarHeader(entry, mtime));
        if (entry.type !== 'file') continue;
        const next = await contents.next();
        if (next.done) throw new BuildError('layer', 'E_BUILD_OUTPUT', `${tree.description}: the contents of ${entry.path} never came`);
        let read = 0;
        for await (const chunk of next.value) {
          read += chunk.length;
          if (read > entry.size) break;
          yield* take(chunk);
        }
        if (read !== entry.size) {
          throw new BuildError('layer', 'E_BUILD_OUTPUT', `${tree.description}: ${entry.path} was ${entry.size} bytes when listed and ${read > entry.size ? 'more' : read} when read; did it change during the build?`);
        }
        if (entry.size > 0) yield* take(tarPadding(entry.size));
      }
      yield* take(tarEnd());
      yield* flush();
    } finally {
      await contents.return?.();
    }
  }

  const layer = digestHasher();
  let size = 0;
  async function* counted(gz: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of gz) {
      size += chunk.length;
      layer.update(chunk);
      yield chunk;
    }
  }
  // Deflated in independent blocks on the thread pool (parallel-gzip.ts): both cores compress, and
  // the bytes are those of gzipReproducible whatever the concurrency.
  const gzip = (source: AsyncIterable<Uint8Array>) => parallelGzip(source);

  let bytes: Uint8Array | undefined;
  if (options.spoolFile !== undefined) {
    await pipeline(tarBytes, gzip, counted, createWriteStream(options.spoolFile));
  } else {
    const chunks: Uint8Array[] = [];
    await pipeline(tarBytes, gzip, counted, async (source: AsyncIterable<Uint8Array>) => {
      for await (const chunk of source) chunks.push(chunk);
    });
    bytes = new Uint8Array(Buffer.concat(chunks, size));
  }
  return { digest: layer.digest(), size, diffId: diff.digest(), ...(bytes ? { bytes } : {}) };
}
