import { constants, crc32, deflateRawSync } from 'node:zlib';
import { concatBytes } from '@slipway/redact';

/** The compression level every reproducible layer uses; part of what fixes the layer's digest. */
export const REPRODUCIBLE_GZIP_LEVEL = 6;

/**
 * Uncompressed bytes per independently deflated block (the scheme of builders/parallel-gzip.ts);
 * part of what fixes the layer's digest.
 */
export const GZIP_BLOCK_BYTES = 1024 * 1024;

/**
 * RFC 1952 header: ID1 ID2, CM deflate, no FLG bits (no name, no header CRC), MTIME 0, XFL 0, and
 * the OS byte pinned to Unix (zlib would write its build's: 3 on Unix, 10 or 11 on Windows).
 */
export const GZIP_HEADER: Uint8Array = Uint8Array.of(0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03);

/** RFC 1952 trailer: CRC-32 and length (mod 2^32) of the uncompressed input, little-endian. */
export function gzipTrailer(crc: number, length: number): Uint8Array {
  const trailer = new Uint8Array(8);
  const view = new DataView(trailer.buffer);
  view.setUint32(0, crc >>> 0, true);
  view.setUint32(4, length % 2 ** 32, true);
  return trailer;
}

/**
 * Gzip with a fixed header (no file name, MTIME 0, OS Unix) and the independent-block deflate of
 * `parallelGzip`, in one synchronous call: for the same input, level and block size, exactly the
 * bytes the streaming layer builder writes. The deflate pieces come from Node's bundled zlib, so
 * the compressed bytes are stable for one zlib build (`process.versions.zlib`); the uncompressed
 * digest (the layer's diff_id) is stable everywhere.
 */
export function gzipReproducible(bytes: Uint8Array, level: number = REPRODUCIBLE_GZIP_LEVEL, blockBytes: number = GZIP_BLOCK_BYTES): Uint8Array {
  const pieces: Uint8Array[] = [GZIP_HEADER];
  let at = 0;
  // Every full block ends with a full flush; the last (possibly empty) block finishes the stream.
  while (bytes.length - at >= blockBytes) {
    pieces.push(deflateRawSync(bytes.subarray(at, at + blockBytes), { level, finishFlush: constants.Z_FULL_FLUSH }));
    at += blockBytes;
  }
  pieces.push(deflateRawSync(bytes.subarray(at), { level }));
  pieces.push(gzipTrailer(crc32(bytes), bytes.length));
  return concatBytes(pieces);
}
