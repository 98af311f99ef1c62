import { gzipSync } from 'node:zlib';
import { BuildError } from './builders/errors.js';

/** The compression level every reproducible layer uses; part of what fixes the layer's digest. */
export const REPRODUCIBLE_GZIP_LEVEL = 6;

// RFC 1952 header byte 9 names the OS that wrote the stream; zlib fills in its build's value
// (3 on Unix, 10 or 11 on Windows builds). Pin it to Unix so the header never depends on the host.
const OS_UNIX = 3;

/**
 * Gzip with a fixed header: no file name, MTIME 0, OS byte pinned. The deflate stream itself comes
 * from Node's bundled zlib, so the compressed bytes are stable for one zlib build
 * (`process.versions.zlib`); the uncompressed digest (the layer's diff_id) is stable everywhere.
 */
export function gzipReproducible(bytes: Uint8Array, level: number = REPRODUCIBLE_GZIP_LEVEL): Uint8Array {
  const out = new Uint8Array(gzipSync(bytes, { level }));
  // zlib writes MTIME as 0 and sets no FLG bits (so there is no header CRC to fix up); we only pin
  // the OS byte, and assert the rest so a future zlib change cannot slip through silently.
  if (out[0] !== 0x1f || out[1] !== 0x8b || out[3] !== 0 || out[4] !== 0 || out[5] !== 0 || out[6] !== 0 || out[7] !== 0) {
    throw new BuildError('layer', 'E_BUILD_OUTPUT', 'zlib produced an unexpected gzip header (FLG or MTIME set); the layer would not be reproducible');
  }
  out[9] = OS_UNIX;
  return out;
}
