// Gzip on several threads with bytes that depend only on the input, the level and the block size:
// pigz's independent-block scheme. The input is cut into blocks of exactly `blockBytes` (however
// it arrives), each block is deflated on its own (no dictionary from the block before) on libuv's
// thread pool, every block but the last ends with a full flush (which byte-aligns it with an empty
// stored block and marks no final block), the last with Z_FINISH, and the raw deflate pieces are
// written in order between one fixed gzip header and the trailer (CRC-32 and length of the whole
// input, RFC 1952).
//
// So the output is one ordinary gzip member any gunzip reads, and it is the same on every run and
// at any concurrency; `gzipReproducible` (../gzip.ts) is the same scheme in one synchronous call.
// Every layer the builders stream is compressed this way (issue 19: one zlib stream kept one core
// busy and the other idle).
import { promisify } from 'node:util';
import { constants, crc32, deflateRaw, type ZlibOptions } from 'node:zlib';
import { GZIP_BLOCK_BYTES, GZIP_HEADER, gzipTrailer, REPRODUCIBLE_GZIP_LEVEL } from '../gzip.js';

const deflateRawAsync = promisify<Uint8Array, ZlibOptions, Buffer>(deflateRaw);

export interface ParallelGzipOptions {
  /** zlib level; default REPRODUCIBLE_GZIP_LEVEL. */
  level?: number;
  /** Uncompressed bytes per independently deflated block; part of what fixes the output bytes. */
  blockBytes?: number;
  /** Blocks being deflated at once (each on a libuv pool thread; the pool has 4 by default). */
  concurrency?: number;
}


/** Gzip `source` as independent blocks deflated in parallel, in order; see the file comment. */
export async function* parallelGzip(source: AsyncIterable<Uint8Array>, options: ParallelGzipOptions = {}): AsyncGenerator<Uint8Array> {
  const level = options.level ?? REPRODUCIBLE_GZIP_LEVEL;
  const blockBytes = options.blockBytes ?? GZIP_BLOCK_BYTES;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  if (!Number.isInteger(blockBytes) || blockBytes < 1) throw new RangeError(`blockBytes must be a positive integer, not ${blockBytes}`);

  let crc = 0;
  let length = 0;
  // Blocks being deflated, in order, each with its input buffer: once deflated, the buffer is
  // reused for a later block, so a layer of any size allocates `concurrency + 1` blocks in all.
  const inFlight: Array<{ piece: Promise<Buffer>; block: Uint8Array }> = [];
  const free: Uint8Array[] = [];
  const next = async (): Promise<Buffer> => {
    const { piece, block } = inFlight.shift() as { piece: Promise<Buffer>; block: Uint8Array };
    const deflated = await piece;
    free.push(block);
    return deflated;
  };
  const deflate = (block: Uint8Array, last: boolean) => {
    const piece = deflateRawAsync(block, { level, ...(last ? {} : { finishFlush: constants.Z_FULL_FLUSH }) });
    // Awaited in order below; this only keeps a failure behind an earlier one from going unhandled.
    piece.catch(() => undefined);
    return piece;
  };

  yield GZIP_HEADER;
  let block: Uint8Array = new Uint8Array(blockBytes);
  let filled = 0;
  for await (const chunk of source) {
    crc = crc32(chunk, crc);
    length += chunk.length;
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(blockBytes - filled, chunk.length - at);
      block.set(chunk.subarray(at, at + take), filled);
      filled += take;
      at += take;
      if (filled === blockBytes) {
        // A full block is not known to be the last until more input (or the end) arrives; a full
        // flush here and an empty final block at the end keeps the bytes independent of that.
        inFlight.push({ piece: deflate(block, false), block });
        if (inFlight.length >= concurrency) yield await next();
        block = free.pop() ?? new Uint8Array(blockBytes);
        filled = 0;
      }
    }
  }
  inFlight.push({ piece: deflate(block.subarray(0, filled), true), block });
  while (inFlight.length > 0) yield await next();

  yield gzipTrailer(crc, length);
}
